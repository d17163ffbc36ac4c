/** Tokens as an app keeps them: an absolute expiry instead of a relative one. */
import { parseScopes } from '../shared/scopes.js';
import type { SwapTokenResponse } from './swap-client.js';

export interface TokenSet {
  accessToken: string;
  tokenType: string;
  scopes: string[];
  /** Epoch milliseconds. */
  expiresAt: number;
  refreshToken: string | undefined;
  /**
   * When the login ends (epoch milliseconds): after it, no refresh works and the user must sign in
   * again. From the swap service's `refresh_token_expires_in`; absent when it never said.
   */
  refreshTokenExpiresAt?: number;
}

/**
 * Refresh a minute early by default: clock skew, and a request that starts just before expiry but
 * reaches Spotify after it.
 */
export const DEFAULT_EXPIRY_SKEW_MS = 60_000;

/** Start telling the user to sign in again this many days before the login ends. */
export const DEFAULT_SIGN_IN_WARNING_DAYS = 14;

const DAY_MS = 86_400_000;

/**
 * Turns a swap service answer into a TokenSet. `receivedAt` is when the answer arrived. When a
 * refresh returns no refresh token, the previous one stays valid and is kept (Spotify's docs:
 * "continue using the existing token"); so is the login's end when the answer does not say it, since
 * a refresh never extends a login (docs/spotify-accounts.md §6).
 */
export function tokenSetFromResponse(
  response: SwapTokenResponse,
  receivedAt: number = Date.now(),
  previous?: TokenSet,
): TokenSet {
  const tokens: TokenSet = {
    accessToken: response.access_token,
    tokenType: response.token_type,
    scopes: parseScopes(response.scope),
    expiresAt: receivedAt + response.expires_in * 1000,
    refreshToken: response.refresh_token ?? previous?.refreshToken,
  };
  const left = response.refresh_token_expires_in;
  const endsAt = left === undefined ? previous?.refreshTokenExpiresAt : receivedAt + left * 1000;
  if (endsAt !== undefined) tokens.refreshTokenExpiresAt = endsAt;
  return tokens;
}

/**
 * How soon the user has to sign in again: `ended` once the login is over, `soon` within its last
 * `warningDays`, `later` before that, `unknown` when the swap service never said when it ends.
 */
export type SignInNeed = 'unknown' | 'later' | 'soon' | 'ended';

export function signInNeed(
  tokens: TokenSet,
  now: number = Date.now(),
  warningDays: number = DEFAULT_SIGN_IN_WARNING_DAYS,
): SignInNeed {
  const endsAt = tokens.refreshTokenExpiresAt;
  if (endsAt === undefined) return 'unknown';
  if (now >= endsAt) return 'ended';
  return endsAt - now <= warningDays * DAY_MS ? 'soon' : 'later';
}

/** True when the access token expires within `skewMs` (or already did). */
export function isExpired(
  tokens: TokenSet,
  skewMs = DEFAULT_EXPIRY_SKEW_MS,
  now: number = Date.now(),
): boolean {
  return tokens.expiresAt - skewMs <= now;
}

/** Whole seconds until expiry, never negative. */
export function secondsUntilExpiry(tokens: TokenSet, now: number = Date.now()): number {
  return Math.max(0, Math.floor((tokens.expiresAt - now) / 1000));
}
