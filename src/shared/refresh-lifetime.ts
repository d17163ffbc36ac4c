/**
 * Spotify's rule for refresh tokens: they expire six months after the user's original authorization,
 * and refreshing does not extend that (docs/spotify-accounts.md §6). Calendar months, as the
 * announcement words it. Used by the sandbox, which models the rule, and by the service, which makes
 * it visible before Spotify enforces it.
 */
export const SPOTIFY_REFRESH_TOKEN_MONTHS = 6;

/** When a refresh token authorized at `authorizedAtMs` stops working at Spotify (epoch ms). */
export function spotifyRefreshTokenEnd(authorizedAtMs: number): number {
  const date = new Date(authorizedAtMs);
  date.setUTCMonth(date.getUTCMonth() + SPOTIFY_REFRESH_TOKEN_MONTHS);
  return date.getTime();
}
