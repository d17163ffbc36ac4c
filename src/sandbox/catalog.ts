/**
 * The sandbox's few tracks, as the Web API's track objects: what `/v1/me/top/tracks` pages through
 * and `/v1/me/player` plays. Made-up ids and names, Spotify's field names and types.
 */

const API = 'https://api.spotify.com/v1';
const OPEN = 'https://open.spotify.com';

interface Seed {
  id: string;
  name: string;
  artist: [id: string, name: string];
  album: [id: string, name: string, releaseDate: string];
  durationMs: number;
}

const SEEDS: readonly Seed[] = [
  {
    id: '0sandboxtrack000000001',
    name: 'Loopback Lullaby',
    artist: ['0sandboxartist00000001', 'The Fakes'],
    album: ['0sandboxalbum000000001', 'Localhost', '2024-03-01'],
    durationMs: 201_000,
  },
  {
    id: '0sandboxtrack000000002',
    name: 'Refresh Token Blues',
    artist: ['0sandboxartist00000001', 'The Fakes'],
    album: ['0sandboxalbum000000001', 'Localhost', '2024-03-01'],
    durationMs: 187_500,
  },
  {
    id: '0sandboxtrack000000003',
    name: 'Sealed With a Key',
    artist: ['0sandboxartist00000002', 'HKDF'],
    album: ['0sandboxalbum000000002', 'Derived', '2023-11-17'],
    durationMs: 243_200,
  },
  {
    id: '0sandboxtrack000000004',
    name: 'Same Site, Strict',
    artist: ['0sandboxartist00000002', 'HKDF'],
    album: ['0sandboxalbum000000002', 'Derived', '2023-11-17'],
    durationMs: 176_800,
  },
  {
    id: '0sandboxtrack000000005',
    name: 'Retry-After',
    artist: ['0sandboxartist00000003', 'Four Twenty-Nine'],
    album: ['0sandboxalbum000000003', 'Backoff', '2022-06-10'],
    durationMs: 219_000,
  },
];

const linked = (type: string, id: string) => ({
  external_urls: { spotify: `${OPEN}/${type}/${id}` },
  href: `${API}/${type}s/${id}`,
  id,
  type,
  uri: `spotify:${type}:${id}`,
});

function track(seed: Seed, index: number) {
  const artist = { ...linked('artist', seed.artist[0]), name: seed.artist[1] };
  return {
    album: {
      album_type: 'album',
      artists: [artist],
      ...linked('album', seed.album[0]),
      images: [],
      name: seed.album[1],
      release_date: seed.album[2],
      release_date_precision: 'day',
      total_tracks: 2,
    },
    artists: [artist],
    disc_number: 1,
    duration_ms: seed.durationMs,
    explicit: false,
    external_ids: { isrc: `XXSBX24${String(index + 1).padStart(5, '0')}` },
    ...linked('track', seed.id),
    is_local: false,
    name: seed.name,
    popularity: 50 - index,
    preview_url: null,
    track_number: (index % 2) + 1,
  };
}

export type Track = ReturnType<typeof track>;

export const TRACKS: readonly Track[] = SEEDS.map(track);

export const trackByUri = (uri: string): Track | undefined => TRACKS.find((one) => one.uri === uri);
