/**
 * The Spotify Accounts token endpoint client, split as oauth4webapi splits every network step:
 * `tokenRequest` makes the request and returns the raw Response; `processTokenResponse` validates
 * it and maps every failure to the OAuthError a swap client should see. The second half is pure.
 *
 * Secrets travel only in the form body and the Basic header, never in a URL (wire-facts §4).
 */
import { utf8 } from '../shared/encoding.js';
import type { AppConfig } from './config.js';
import { OAuthError } from './errors.js';

export type TokenGrant =
  | { grant_type: 'authorization_code'; code: string; redirect_uri: string; code_verifier?: string }
  | { grant_type: 'refresh_token'; refresh_token: string };

/** What the service hands back to its clients (wire-facts §1 and §3). */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

/** The part of a fetch `Response` the token endpoint client reads. */
export interface UpstreamResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** The one kind of request the service makes upstream: a form POST with a string body. */
export interface UpstreamRequestInit {
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  redirect: 'manual';
  signal: AbortSignal;
}

/**
 * How the service reaches Spotify Accounts. The global `fetch` fits, and is what every runtime uses;
 * the Node entry plugs in a leaner HTTP client (src/runtimes/node/upstream-client.ts).
 */
export type UpstreamFetch = (url: string, init: UpstreamRequestInit) => Promise<UpstreamResponse>;

export interface TokenRequestOptions {
  fetch: UpstreamFetch;
  signal: AbortSignal;
}

/** Basic credentials per RFC 6749 §2.3.1: each part form-urlencoded, then base64. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (part: string) => encodeURIComponent(part).replace(/%20/g, '+');
  const pair = utf8(`${encode(clientId)}:${encode(clientSecret)}`);
  let binary = '';
  for (const byte of pair) {
    binary += String.fromCharCode(byte);
  }
  return `Basic ${btoa(binary)}`;
}

// Apps are frozen for the life of the process: build each one's header once.
const authorizations = new WeakMap<AppConfig, string>();
function authorizationFor(app: AppConfig): string {
  let header = authorizations.get(app);
  if (header === undefined) {
    header = basicAuthorization(app.clientId, app.clientSecret);
    authorizations.set(app, header);
  }
  return header;
}

export function tokenEndpoint(app: AppConfig): string {
  return `${app.accountsUrl}/api/token`;
}

/** POSTs one grant to Spotify's token endpoint. Network failures surface as thrown errors. */
export function tokenRequest(
  app: AppConfig,
  grant: TokenGrant,
  options: TokenRequestOptions,
): Promise<UpstreamResponse> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(grant)) {
    if (value !== undefined) {
      body.set(name, value);
    }
  }
  return options.fetch(tokenEndpoint(app), {
    method: 'POST',
    headers: {
      Authorization: authorizationFor(app),
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    },
    body: body.toString(),
    redirect: 'manual',
    signal: options.signal,
  });
}

/** Turns a thrown fetch or body-read failure into 504 (our timeout) or 502 (anything else). */
export function upstreamFailure(cause: unknown, timeoutMs: number): OAuthError {
  if (cause instanceof OAuthError) {
    return cause;
  }
  const name = (cause as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new OAuthError(504, 'upstream_timeout', `Spotify Accounts did not answer within ${timeoutMs} ms`);
  }
  return new OAuthError(502, 'upstream_error', 'Could not reach Spotify Accounts');
}

const DEFAULT_RETRY_AFTER_SECONDS = 5;
const MAX_RETRY_AFTER_SECONDS = 86_400;

/**
 * Reads `Retry-After` as delay-seconds or HTTP-date (RFC 9110 §10.2.3) and returns whole seconds,
 * at least 1: SpotifyAPI-NET parses the header with int.Parse, so a date must never reach a client.
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

function badGateway(description: string): OAuthError {
  return new OAuthError(502, 'upstream_error', description);
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

/** Spotify documents `expires_in` as a number, but its own example shows a string: accept both. */
function toSeconds(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) && number >= 0 ? number : undefined;
}

/**
 * Validates a token endpoint response. Success: the normalized token response. Spotify's own JSON
 * 4xx errors pass through with status and body; 429 keeps a whole-seconds Retry-After; everything
 * else (5xx, non-JSON, a malformed success) is a 502, because the client cannot fix it.
 */
export async function processTokenResponse(
  response: UpstreamResponse,
  now = Date.now(),
): Promise<TokenResponse> {
  const text = await response.text();
  const status = response.status;

  if (status === 429) {
    const seconds = retryAfterSeconds(response.headers.get('retry-after'), now);
    throw new OAuthError(429, 'rate_limited', `Spotify rate limit reached; retry after ${seconds} seconds`, {
      'Retry-After': String(seconds),
    });
  }

  const body = parseJson(text);

  if (status >= 400 && status < 500) {
    if (isRecord(body) && typeof body.error === 'string' && body.error !== '') {
      const description = typeof body.error_description === 'string' ? body.error_description : undefined;
      throw new OAuthError(status, body.error, description);
    }
    throw badGateway(`Spotify Accounts answered HTTP ${status} without an OAuth error`);
  }

  if (status < 200 || status >= 300) {
    throw badGateway(`Spotify Accounts answered HTTP ${status}`);
  }

  if (!isRecord(body)) {
    throw badGateway('Spotify Accounts answered with a body that is not JSON');
  }
  const { access_token, token_type, expires_in, scope, refresh_token } = body;
  const seconds = toSeconds(expires_in);
  if (typeof access_token !== 'string' || access_token === '' || seconds === undefined) {
    throw badGateway('Spotify Accounts answered with a malformed token response');
  }
  const tokens: TokenResponse = {
    access_token,
    token_type: typeof token_type === 'string' && token_type !== '' ? token_type : 'Bearer',
    expires_in: seconds,
    scope: typeof scope === 'string' ? scope : '',
  };
  if (typeof refresh_token === 'string' && refresh_token !== '') {
    tokens.refresh_token = refresh_token;
  }
  return tokens;
}
