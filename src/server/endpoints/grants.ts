/**
 * The life of the credential the service issues: the grant a sealed refresh token carries, from the
 * code exchange through every refresh (docs/sealed-tokens.md). Pure: the handlers (tokens.ts) seal,
 * open and call Spotify; this says what the grants are, when a login has ended, and when a refresh
 * must hand the client a new sealed token.
 */
import { spotifyRefreshTokenEnd } from '../../shared/refresh-lifetime.js';
import type { TokenResponse } from '../../shared/token-response.js';
import { OAuthError } from '../errors.js';
import { type Grant, newFamilyId, type Opened } from '../sealing/index.js';

/** How an opened token was presented: one of ours (either format), or the Ruby service's. */
export type Presented = (Opened & { legacy: false }) | { grant: Grant; legacy: true };

const seconds = (ms: number) => Math.floor(ms / 1000);

/** The grant of a new login: Spotify's refresh token, authorized now, a new family, generation 0. */
export function loginGrant(refreshToken: string, nowMs: number): Grant {
  const now = seconds(nowMs);
  return { refreshToken, authTime: now, familyId: newFamilyId(), generation: 0, issuedAt: now };
}

/** The grant of a refresh token the Ruby service sealed: nothing is known of it but the token. */
export function legacyGrant(refreshToken: string): Grant {
  return { refreshToken, authTime: undefined, familyId: undefined, generation: 0, issuedAt: undefined };
}

/** When a login authorized at `authTime` (epoch seconds) ends (epoch ms); undefined when that time is unknown. */
export function loginEndOf(authTime: number | undefined): number | undefined {
  return authTime === undefined ? undefined : spotifyRefreshTokenEnd(authTime * 1000);
}

/** When the login a grant belongs to ends (epoch ms), or undefined when its authorization time is unknown. */
export function loginEnd(grant: Grant): number | undefined {
  return loginEndOf(grant.authTime);
}

/** Whole seconds a login authorized at `authTime` has left, for `refresh_token_expires_in`, when known. */
export function secondsLeft(authTime: number | undefined, nowMs: number): number | undefined {
  const end = loginEndOf(authTime);
  return end === undefined ? undefined : Math.max(0, seconds(end - nowMs));
}

/** The answer when a login has ended: the user has to sign in again; Spotify is not asked. */
export function loginExpired(endMs: number): OAuthError {
  return new OAuthError(
    400,
    'invalid_grant',
    `The login expired on ${new Date(endMs).toISOString().slice(0, 10)}: the user must sign in again`,
  );
}

/**
 * Spotify's own `invalid_grant` for a refresh token past its life, told as the service tells it, so
 * that clients see one description for an ended login whoever noticed first.
 */
export function asLoginExpired(error: OAuthError, grant: Grant, nowMs: number): OAuthError {
  if (error.error !== 'invalid_grant') return error;
  const end = loginEnd(grant);
  const saysExpired = /expired/i.test(error.description ?? '');
  if (end !== undefined && nowMs >= end) return loginExpired(end);
  return saysExpired ? loginExpired(end ?? nowMs) : error;
}

/**
 * Whether a refresh must hand the client a new sealed token, and the grant it carries: when Spotify
 * rotated its refresh token; when the presented token was sealed with an old secret (so that dropping
 * the old secret logs nobody out), in the first format, or by the Ruby service. Otherwise the client
 * keeps the token it has, as Spotify's own rule says.
 */
export function nextGrant(presented: Presented, tokens: TokenResponse, nowMs: number): Grant | undefined {
  const rotated = tokens.refresh_token !== undefined;
  const stale = presented.legacy || presented.version === 1 || presented.keyIndex > 0;
  if (!rotated && !stale) return undefined;
  const { grant } = presented;
  return {
    ...grant,
    refreshToken: tokens.refresh_token ?? grant.refreshToken,
    familyId: grant.familyId ?? newFamilyId(),
    generation: grant.generation + 1,
    issuedAt: seconds(nowMs),
  };
}
