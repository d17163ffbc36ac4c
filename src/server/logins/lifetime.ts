/**
 * When a login ends (docs/sealed-tokens.md): at the user's authorization plus the app's maximum age
 * (`REFRESH_TOKEN_MAX_AGE`; by default Spotify's own six calendar months, docs/spotify-accounts.md §6),
 * or earlier, after `REFRESH_TOKEN_IDLE_TIMEOUT` without a refresh. Pure: the handlers ask, with the
 * store's last use where there is a store.
 */
import { spotifyRefreshTokenEnd } from '../../shared/refresh-lifetime.js';
import type { RefreshTokenPolicy } from '../config/index.js';
import { OAuthError } from '../errors.js';
import type { Grant } from '../sealing/index.js';

const SIX_MONTHS_MS = 184 * 86_400_000;

/** When a login authorized at `authTime` (epoch seconds) ends (epoch ms); undefined when that time is unknown. */
export function loginEndOf(policy: RefreshTokenPolicy, authTime: number | undefined): number | undefined {
  if (authTime === undefined) return undefined;
  return policy.maxAgeSeconds === undefined
    ? spotifyRefreshTokenEnd(authTime * 1000)
    : (authTime + policy.maxAgeSeconds) * 1000;
}

/**
 * Until when a store must remember a login (epoch ms): its end, or, where its authorization time is
 * unknown, as long as any login can last from now.
 */
export function rememberUntil(policy: RefreshTokenPolicy, grant: Grant, nowMs: number): number {
  return (
    loginEndOf(policy, grant.authTime) ??
    nowMs + (policy.maxAgeSeconds === undefined ? SIX_MONTHS_MS : policy.maxAgeSeconds * 1000)
  );
}

/** Whole seconds a login has left, for `refresh_token_expires_in`, when its end is known. */
export function secondsLeft(
  policy: RefreshTokenPolicy,
  authTime: number | undefined,
  nowMs: number,
): number | undefined {
  const end = loginEndOf(policy, authTime);
  return end === undefined ? undefined : Math.max(0, Math.floor((end - nowMs) / 1000));
}

/** Why a login may not refresh any more, if it may not: past its end, or idle too long. */
export type Ended = { reason: 'expired'; atMs: number } | { reason: 'idle'; sinceMs: number };

/**
 * Whether the login of `grant` has ended at `nowMs`. `lastUsedMs`: the last refresh a store
 * remembers; the token's own issue time counts as a use too.
 */
export function loginEnded(
  policy: RefreshTokenPolicy,
  grant: Grant,
  nowMs: number,
  lastUsedMs?: number,
): Ended | undefined {
  const end = loginEndOf(policy, grant.authTime);
  if (end !== undefined && nowMs >= end) return { reason: 'expired', atMs: end };
  if (policy.idleTimeoutSeconds === undefined) return undefined;
  const lastUse = Math.max((grant.issuedAt ?? 0) * 1000, lastUsedMs ?? 0);
  // Unknown issue time and no use remembered (a token of the first format): nothing to measure from.
  if (lastUse === 0) return undefined;
  return nowMs - lastUse >= policy.idleTimeoutSeconds * 1000
    ? { reason: 'idle', sinceMs: lastUse }
    : undefined;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The answer when a login has ended: the user has to sign in again; Spotify is not asked. */
export function loginEndedError(ended: Ended): OAuthError {
  const description =
    ended.reason === 'expired'
      ? `The login expired on ${day(ended.atMs)}: the user must sign in again`
      : `The login expired after going unused since ${day(ended.sinceMs)}: the user must sign in again`;
  return new OAuthError(400, 'invalid_grant', description);
}

/**
 * Spotify's own `invalid_grant` for a refresh token past its life, told as the service tells it, so
 * that clients see one description for an ended login whoever noticed first.
 */
export function asLoginExpired(
  error: OAuthError,
  policy: RefreshTokenPolicy,
  grant: Grant,
  nowMs: number,
): OAuthError {
  if (error.error !== 'invalid_grant') return error;
  const end = loginEndOf(policy, grant.authTime);
  if (end !== undefined && nowMs >= end) return loginEndedError({ reason: 'expired', atMs: end });
  return /expired/i.test(error.description ?? '')
    ? loginEndedError({ reason: 'expired', atMs: Math.min(end ?? nowMs, nowMs) })
    : error;
}
