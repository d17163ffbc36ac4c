/**
 * `POST /__sandbox/age`: moves users' authorizations into the past, so that a test reaches the end of
 * a login (Spotify's six months, docs/spotify-accounts.md §6) without waiting for it. The refresh
 * tokens of an aged login then answer as Spotify's do at their end: `invalid_grant`.
 *
 * A login is named by one of its refresh tokens, or by one of its access tokens: behind a sealing swap
 * service, the access token is all of Spotify's that a client holds. `all` ages every login the sandbox
 * keeps.
 */
import type { Consent, SandboxStore } from './store.js';

/** Ten years: far past any login's end, and every aged time stays a valid Date. */
export const MAX_AGE_SECONDS = 10 * 366 * 86_400;

type Target = { all: true } | { refreshToken: string } | { accessToken: string };

export interface AgeRequest {
  target: Target;
  seconds: number;
}

export type AgeAnswer =
  | { aged: number }
  | { aged: 1; authorizedAt: string; refreshTokenExpiresAt: string; expired: boolean };

const TARGET_KEYS = ['refreshToken', 'accessToken', 'all'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function target(body: Record<string, unknown>): Target | string {
  const given = TARGET_KEYS.filter((key) => body[key] !== undefined);
  if (given.length !== 1) return 'name exactly one of refreshToken, accessToken or all';
  if (body.all !== undefined) return body.all === true ? { all: true } : 'all must be true';
  for (const key of ['refreshToken', 'accessToken'] as const) {
    const value = body[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') return `${key} must be a non-empty string`;
    return key === 'refreshToken' ? { refreshToken: value } : { accessToken: value };
  }
  return 'name exactly one of refreshToken, accessToken or all';
}

/** The request, or what is wrong with it as a sentence. */
export function parseAgeRequest(body: unknown): AgeRequest | string {
  if (!isRecord(body)) return 'body must be a JSON object';
  const { seconds } = body;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1 || seconds > MAX_AGE_SECONDS) {
    return `seconds must be a whole number from 1 to ${MAX_AGE_SECONDS}`;
  }
  const named = target(body);
  return typeof named === 'string' ? named : { target: named, seconds };
}

function consentOf(target: Target, store: SandboxStore): Consent | string {
  if ('refreshToken' in target) {
    return (
      store.findRefreshToken(target.refreshToken)?.consent ??
      'refreshToken is not a refresh token this sandbox knows (never issued, or evicted)'
    );
  }
  if ('accessToken' in target) {
    const grant = store.findAccessToken(target.accessToken);
    if (!grant) return 'accessToken is not an access token this sandbox knows (never issued, or evicted)';
    return grant.consent ?? 'accessToken is an app token (client credentials): no user authorized it';
  }
  return 'all names no single login';
}

/** Ages what the request names. Returns the answer, or why the named login cannot be found. */
export function age(request: AgeRequest, store: SandboxStore): AgeAnswer | string {
  const ms = request.seconds * 1000;
  if ('all' in request.target) {
    const consents = store.consents();
    for (const consent of consents) store.age(consent, ms);
    return { aged: consents.size };
  }
  const consent = consentOf(request.target, store);
  if (typeof consent === 'string') return consent;
  store.age(consent, ms);
  return {
    aged: 1,
    authorizedAt: new Date(consent.authorizedAt).toISOString(),
    refreshTokenExpiresAt: new Date(store.refreshTokenEnd(consent)).toISOString(),
    expired: store.loginEnded(consent),
  };
}
