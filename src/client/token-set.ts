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
}

/**
 * Refresh a minute early by default: clock skew, and a request that starts just before expiry but
 * reaches Spotify after it.
 */
export const DEFAULT_EXPIRY_SKEW_MS = 60_000;

/**
 * Turns a swap service answer into a TokenSet. `receivedAt` is when the answer arrived. When a
 * refresh returns no refresh token, the previous one stays valid and is kept (Spotify's docs:
 * "continue using the existing token").
 */
export function tokenSetFromResponse(
  response: SwapTokenResponse,
  receivedAt: number = Date.now(),
  previous?: TokenSet,
): TokenSet {
  return {
    accessToken: response.access_token,
    tokenType: response.token_type,
    scopes: parseScopes(response.scope),
    expiresAt: receivedAt + response.expires_in * 1000,
    refreshToken: response.refresh_token ?? previous?.refreshToken,
  };
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
