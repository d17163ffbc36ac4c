/** The scopes Spotify grants to third-party apps (docs/spotify-accounts.md §3). Anything else is an `Illegal scope`. */
export const SPOTIFY_SCOPES: ReadonlySet<string> = new Set([
  'ugc-image-upload',
  'user-read-playback-state',
  'user-modify-playback-state',
  'user-read-currently-playing',
  'app-remote-control',
  'streaming',
  'playlist-read-private',
  'playlist-read-collaborative',
  'playlist-modify-private',
  'playlist-modify-public',
  'user-follow-modify',
  'user-follow-read',
  'user-read-playback-position',
  'user-top-read',
  'user-read-recently-played',
  'user-library-modify',
  'user-library-read',
  'user-read-email',
  'user-read-private',
]);

/** Splits a space-separated scope string, dropping empty entries and duplicates. */
export function parseScopes(scope: string | null | undefined): string[] {
  return [...new Set((scope ?? '').split(/[ +]/).filter(Boolean))];
}
