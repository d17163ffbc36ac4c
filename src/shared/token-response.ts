/**
 * The one reader of token endpoint answers, used on both sides of the swap contract: by the service for
 * Spotify Accounts' answers, and by the client kit for the swap service's. It reports what happened as a
 * typed outcome and decides nothing: which outcomes are retried, counted against the upstream or shown to
 * a client is the caller's policy (src/server/upstream/policy.ts, src/client/swap-client.ts).
 *
 * The answer shapes are Spotify's (docs/spotify-accounts.md §1-2): a JSON object with `access_token`,
 * `token_type`, `expires_in` (a number, though Spotify's own example shows a string), `scope`, and a
 * `refresh_token` on code exchanges and sometimes on refreshes; errors as `{error, error_description}`.
 * Whatever comes from the network is untrusted: tokens must be visible ASCII, lifetimes sane whole
 * numbers, texts free of control characters, so nothing a peer sends can reach a terminal, a log or a
 * store in a shape that breaks it.
 */

import { webApiErrorOf } from './web-api-error.js';

/** A token response as this package hands it on: normalized, every field checked. */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  /** Seconds until the access token expires. */
  expires_in: number;
  /** Space separated; may be empty. */
  scope: string;
  /** Always on a code exchange; on a refresh only when the token was rotated. */
  refresh_token?: string;
  /**
   * Whole seconds until the refresh token's life ends (the login's), when the swap service knows it
   * (docs/sealed-tokens.md). Not Spotify's: its answers never carry it.
   */
  refresh_token_expires_in?: number;
}

/** What a token endpoint answer turned out to be. */
export type TokenOutcome =
  | { kind: 'ok'; status: number; tokens: TokenResponse }
  /** A 4xx with an OAuth error body (RFC 6749 §5.2). */
  | { kind: 'oauth_error'; status: number; error: string; description: string | undefined }
  /**
   * A 429; `retryAfter` in whole seconds, at least 1; `reason` the Web API's machine-readable one when
   * the body is in its shape (`QUOTA_EXCEEDED`: the app's quota is spent, docs/spotify-accounts.md §6).
   */
  | {
      kind: 'rate_limited';
      status: 429;
      retryAfter: number;
      reason?: string;
      error?: string;
      description?: string;
    }
  /** A 5xx; its body is never trusted to be JSON, but an OAuth error in it is kept. */
  | {
      kind: 'server_error';
      status: number;
      retryAfter: number | undefined;
      error?: string;
      description?: string;
    }
  /** Anything else: `reason` reads after "answered", e.g. "with a body that is not JSON". */
  | { kind: 'invalid_response'; status: number; reason: string };

/** The part of a fetch `Response` the reader looks at. */
export interface TokenEndpointAnswer {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
}

/** A year: no token endpoint hands out an access token for longer, and it keeps every expiry a valid Date. */
export const MAX_EXPIRES_IN_SECONDS = 366 * 86_400;
/** Ten years: longer than any refresh token's life a swap service could announce. */
export const MAX_REFRESH_EXPIRES_IN_SECONDS = 10 * 366 * 86_400;
/** Spotify's tokens are a few hundred characters; this is room for any sane token, sealed or not. */
const MAX_TOKEN_LENGTH = 4096;
const DEFAULT_RETRY_AFTER_SECONDS = 5;
const MAX_RETRY_AFTER_SECONDS = 86_400;
const MAX_DESCRIPTION_LENGTH = 1024;

/** Visible ASCII only: no space, no control character, nothing a terminal would interpret. */
const TOKEN = /^[\x21-\x7e]+$/;
/** RFC 6749 §5.2 `error`: NQSCHAR, i.e. printable ASCII without `"` and `\`. */
const ERROR_CODE = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
/** RFC 6749 §3.3 scope tokens separated by spaces: printable ASCII. */
const SCOPE = /^[\x20-\x7e]*$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/**
 * Reads `Retry-After` as delay-seconds or HTTP-date (RFC 9110 §10.2.3) and returns whole seconds, at
 * least 1 and at most a day: SpotifyAPI-NET parses the header with int.Parse, so a date or a fraction
 * must never be passed on as it came.
 */
export function retryAfterSeconds(header: string | null, now = Date.now()): number {
  const value = header?.trim() ?? '';
  let seconds: number;
  // Digits, or digits with a fraction, which some servers send: never read those as a date.
  if (/^\d+(\.\d+)?$/.test(value)) {
    seconds = Math.ceil(Number(value));
  } else {
    const date = Date.parse(value);
    seconds = Number.isNaN(date) ? DEFAULT_RETRY_AFTER_SECONDS : Math.ceil((date - now) / 1000);
  }
  return Math.min(Math.max(seconds, 1), MAX_RETRY_AFTER_SECONDS);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A whole number of seconds in range; Spotify's example shows `"3600"`, so digit strings count too. */
function lifetime(value: unknown, max = MAX_EXPIRES_IN_SECONDS): number | undefined {
  const number = typeof value === 'string' && /^\d{1,12}$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) && number >= 0 && number <= max
    ? number
    : undefined;
}

function isToken(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_TOKEN_LENGTH && TOKEN.test(value);
}

/** The OAuth error of a body, when it has a well-formed one. */
function oauthError(body: unknown): { error: string; description: string | undefined } | undefined {
  if (!isRecord(body) || typeof body.error !== 'string' || !ERROR_CODE.test(body.error)) return undefined;
  const text = body.error_description;
  const description =
    typeof text === 'string' && text.length <= MAX_DESCRIPTION_LENGTH && !CONTROL.test(text)
      ? text
      : undefined;
  return { error: body.error, description };
}

function tokensOf(body: unknown): TokenResponse | string {
  if (!isRecord(body)) return 'with a body that is not JSON';
  const { access_token, token_type, expires_in, scope, refresh_token, refresh_token_expires_in } = body;
  const seconds = lifetime(expires_in);
  if (!isToken(access_token)) return 'with a malformed token response (access_token)';
  if (seconds === undefined) return 'with a malformed token response (expires_in)';
  if (scope !== undefined && (typeof scope !== 'string' || !SCOPE.test(scope))) {
    return 'with a malformed token response (scope)';
  }
  // An empty refresh token means none, as it always has for the clients of swap services.
  if (refresh_token !== undefined && refresh_token !== '' && !isToken(refresh_token)) {
    return 'with a malformed token response (refresh_token)';
  }
  const tokens: TokenResponse = {
    access_token,
    token_type: isToken(token_type) ? token_type : 'Bearer',
    expires_in: seconds,
    scope: scope ?? '',
  };
  if (typeof refresh_token === 'string' && refresh_token !== '') tokens.refresh_token = refresh_token;
  if (refresh_token_expires_in !== undefined) {
    const left = lifetime(refresh_token_expires_in, MAX_REFRESH_EXPIRES_IN_SECONDS);
    if (left === undefined) return 'with a malformed token response (refresh_token_expires_in)';
    tokens.refresh_token_expires_in = left;
  }
  return tokens;
}

/** The Web API's `reason` of an error body, when there is one that looks like one. */
function reasonOf(body: unknown): { reason?: string } {
  const { reason } = webApiErrorOf(body);
  return reason === undefined ? {} : { reason };
}

/** Judges one token endpoint answer from its status, headers and body text. Pure: no I/O, no policy. */
export function parseTokenResponse(
  answer: TokenEndpointAnswer,
  text: string,
  now = Date.now(),
): TokenOutcome {
  const { status } = answer;
  const body = parseJson(text);
  if (status === 429) {
    return {
      kind: 'rate_limited',
      status,
      retryAfter: retryAfterSeconds(answer.headers.get('retry-after'), now),
      ...reasonOf(body),
      ...oauthError(body),
    };
  }
  if (status >= 500) {
    const header = answer.headers.get('retry-after');
    return {
      kind: 'server_error',
      status,
      retryAfter: header === null ? undefined : retryAfterSeconds(header, now),
      ...oauthError(body),
    };
  }
  if (status >= 400) {
    const error = oauthError(body);
    return error
      ? { kind: 'oauth_error', status, ...error }
      : { kind: 'invalid_response', status, reason: `HTTP ${status} without an OAuth error` };
  }
  if (status < 200 || status >= 300) {
    return { kind: 'invalid_response', status, reason: `HTTP ${status}` };
  }
  const tokens = tokensOf(body);
  return typeof tokens === 'string'
    ? { kind: 'invalid_response', status, reason: tokens }
    : { kind: 'ok', status, tokens };
}
