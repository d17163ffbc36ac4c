/**
 * The Web API's player and top tracks, as the service's proxy and the demo use them: `GET
 * /v1/me/player` is a 204 while nothing plays and the playback state once something does; `PUT
 * /v1/me/player/play` is a 204, or the 404 `NO_ACTIVE_DEVICE` player error while no device is
 * active; `GET /v1/me/top/tracks` pages through the catalog (catalog.ts). The sandbox has one device,
 * which a play with its `device_id` activates.
 */
import { TRACKS, type Track, trackByUri } from './catalog.js';
import { authorizeCall, type WebApiDeps, webApiError, webApiJson } from './web-api.js';

export const SANDBOX_DEVICE = {
  id: 'sandbox-device-0001',
  is_active: true,
  is_private_session: false,
  is_restricted: false,
  name: 'Sandbox Speaker',
  supports_volume: true,
  type: 'Speaker',
  volume_percent: 50,
} as const;

const TIME_RANGES = new Set(['short_term', 'medium_term', 'long_term']);

interface Playing {
  track: Track;
  /** When the track started (epoch ms, the sandbox's clock). */
  startedAt: number;
}

export interface PlayerHandlers {
  getPlayer(request: Request, env: unknown): Promise<Response>;
  putPlay(request: Request, env: unknown): Promise<Response>;
  getTopTracks(request: Request, env: unknown): Promise<Response>;
}

/** A query parameter as a whole number in [min, max], the default when absent, or undefined when invalid. */
function bounded(value: string | null, fallback: number, min: number, max: number): number | undefined {
  if (value === null) return fallback;
  const number = Number(value);
  return /^\d+$/.test(value) && number >= min && number <= max ? number : undefined;
}

/** The tracks a play body names (`uris`; none: resume, or the first track); a message for an unknown one; undefined for a bad body. */
async function requestedTracks(request: Request): Promise<Track[] | string | undefined> {
  const text = await request.text();
  if (text.trim() === '') return [];
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const uris = (body as { uris?: unknown } | null)?.uris;
  if (uris === undefined) return [];
  if (!Array.isArray(uris)) return undefined;
  const tracks: Track[] = [];
  for (const uri of uris) {
    const found = typeof uri === 'string' ? trackByUri(uri) : undefined;
    if (!found) return `Invalid track uri: ${String(uri)}`;
    tracks.push(found);
  }
  return tracks;
}

export function createPlayer(deps: WebApiDeps & { now: () => number }): PlayerHandlers {
  const playing = new Map<string, Playing>();

  return {
    async getPlayer(request, env) {
      const call = await authorizeCall(request, env, deps, 'user-read-playback-state');
      if ('refused' in call) return call.refused;
      const now = playing.get(call.user.id);
      if (!now) return new Response(null, { status: 204 });
      const progress = Math.min(deps.now() - now.startedAt, now.track.duration_ms);
      return webApiJson({
        device: SANDBOX_DEVICE,
        repeat_state: 'off',
        shuffle_state: false,
        context: null,
        timestamp: now.startedAt,
        progress_ms: progress,
        is_playing: true,
        item: now.track,
        currently_playing_type: 'track',
        actions: { disallows: { resuming: true } },
      });
    },

    async putPlay(request, env) {
      const call = await authorizeCall(request, env, deps, 'user-modify-playback-state');
      if ('refused' in call) return call.refused;
      const device = new URL(request.url).searchParams.get('device_id');
      if (device !== null && device !== SANDBOX_DEVICE.id) {
        return webApiError(404, 'Device not found', 'DEVICE_NOT_FOUND');
      }
      const current = playing.get(call.user.id);
      if (device === null && !current) {
        return webApiError(404, 'Player command failed: No active device found', 'NO_ACTIVE_DEVICE');
      }
      const tracks = await requestedTracks(request);
      if (tracks === undefined) return webApiError(400, 'Malformed json');
      if (typeof tracks === 'string') return webApiError(400, tracks);
      const [first] = tracks;
      const track = first ?? current?.track ?? TRACKS[0];
      if (track) playing.set(call.user.id, { track, startedAt: deps.now() });
      return new Response(null, { status: 204 });
    },

    async getTopTracks(request, env) {
      const call = await authorizeCall(request, env, deps, 'user-top-read');
      if ('refused' in call) return call.refused;
      const url = new URL(request.url);
      const query = url.searchParams;
      const limit = bounded(query.get('limit'), 20, 1, 50);
      const offset = bounded(query.get('offset'), 0, 0, 10_000);
      if (limit === undefined) return webApiError(400, 'Invalid limit');
      if (offset === undefined) return webApiError(400, 'Invalid offset');
      const range = query.get('time_range');
      if (range !== null && !TIME_RANGES.has(range)) return webApiError(400, 'Invalid time range');
      const page = (at: number) => {
        const next = new URL('https://api.spotify.com/v1/me/top/tracks');
        next.search = new URLSearchParams({ limit: String(limit), offset: String(at) }).toString();
        return next.href;
      };
      return webApiJson({
        href: page(offset),
        limit,
        next: offset + limit < TRACKS.length ? page(offset + limit) : null,
        offset,
        previous: offset > 0 ? page(Math.max(0, offset - limit)) : null,
        total: TRACKS.length,
        items: TRACKS.slice(offset, offset + limit),
      });
    },
  };
}
