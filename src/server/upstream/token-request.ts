/**
 * One call to Spotify Accounts' token endpoint, split as oauth4webapi splits every network step:
 * `tokenRequest` makes the request and returns the raw answer; `attemptTokenCall` bounds it in time and
 * reports what happened as an `UpstreamResult`, never throwing. Judging the answer is the shared
 * `parseTokenResponse`; what to do about it is policy.ts.
 *
 * Secrets travel only in the form body and the Basic header, never in a URL (docs/spotify-accounts.md §1).
 */
import { abortKind } from '../../shared/abort.js';
import { utf8 } from '../../shared/encoding.js';
import { parseTokenResponse, type TokenOutcome } from '../../shared/token-response.js';
import type { AppConfig } from '../config/index.js';

export type TokenGrant =
  | { grant_type: 'authorization_code'; code: string; redirect_uri: string; code_verifier?: string }
  | { grant_type: 'refresh_token'; refresh_token: string };

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
  /** Ends the call; absent when the client keeps `timeoutMs` itself (`UpstreamFetch.enforcesTimeout`). */
  signal?: AbortSignal;
  /** For a client that enforces it: the call (body included) fails with a `TimeoutError` after this. */
  timeoutMs?: number;
}

/**
 * How the service reaches Spotify Accounts. The global `fetch` fits, and is what every runtime uses;
 * the Node entry plugs in a leaner HTTP client (src/runtimes/node/upstream-client.ts), which keeps
 * the deadline itself (`enforcesTimeout`): an AbortController and a timer per call were a measured
 * share of a refresh's cost there (docs/benchmarks.md).
 */
export interface UpstreamFetch {
  (url: string, init: UpstreamRequestInit): Promise<UpstreamResponse>;
  /** Fails a call with a `TimeoutError` after `init.timeoutMs` by itself, so no signal is passed. */
  readonly enforcesTimeout?: true;
}

/** What one attempt came to: an answer judged by parseTokenResponse, or no answer at all. */
export type UpstreamResult =
  | TokenOutcome
  | { kind: 'timeout' }
  /** `requestSent: false` when the connection failed before the request could leave. */
  | { kind: 'network_error'; requestSent: boolean };

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

export function tokenEndpoint(app: Pick<AppConfig, 'accountsUrl'>): string {
  return `${app.accountsUrl}/api/token`;
}

/** What the form encoding writes as it is: ASCII letters and digits, `*`, `-`, `.` and `_` (WHATWG URL). */
const FORM_AS_IS = /^[A-Za-z0-9*._-]*$/;

/**
 * A grant as a form body, as URLSearchParams writes it. Grant types and Spotify's refresh tokens need
 * no escaping, so the pairs are joined as they are unless a name or value needs it (a redirect URI
 * does): URLSearchParams' encoder was about half a percent of a refresh's instructions
 * (docs/benchmarks.md). test/upstream-form.test.ts checks both ways against URLSearchParams.
 */
export function formBody(grant: Readonly<Record<string, string | undefined>>): string {
  const pairs = Object.entries(grant).filter((pair): pair is [string, string] => pair[1] !== undefined);
  if (pairs.every(([name, value]) => FORM_AS_IS.test(name) && FORM_AS_IS.test(value))) {
    return pairs.map(([name, value]) => `${name}=${value}`).join('&');
  }
  // A record's names are unique, so appending each pair is what setting it would be.
  return new URLSearchParams(pairs).toString();
}

/** POSTs one grant to Spotify's token endpoint. Network failures surface as thrown errors. */
export function tokenRequest(
  app: AppConfig,
  grant: TokenGrant,
  options: { fetch: UpstreamFetch; signal?: AbortSignal; timeoutMs?: number },
): Promise<UpstreamResponse> {
  return options.fetch(tokenEndpoint(app), {
    method: 'POST',
    headers: {
      Authorization: authorizationFor(app),
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    },
    body: formBody(grant),
    redirect: 'manual',
    signal: options.signal,
    timeoutMs: options.timeoutMs,
  });
}

/** Error codes by which Node says no connection was made: the request never left. */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What a thrown fetch or body read means. Our own timer is the only thing that aborts the call. */
export function failureResult(error: unknown): UpstreamResult {
  if (abortKind(error) !== undefined) return { kind: 'timeout' };
  const code = causeCode(error);
  return { kind: 'network_error', requestSent: code === undefined || !NOT_CONNECTED.has(code) };
}

/** One call, answer read and judged, within `app.upstreamTimeoutMs`. */
export async function attemptTokenCall(
  app: AppConfig,
  grant: TokenGrant,
  fetch: UpstreamFetch,
): Promise<UpstreamResult> {
  if (fetch.enforcesTimeout) {
    try {
      const response = await tokenRequest(app, grant, { fetch, timeoutMs: app.upstreamTimeoutMs });
      return parseTokenResponse(response, await response.text());
    } catch (error) {
      return failureResult(error);
    }
  }
  // A timer of our own, cleared as soon as the call is over: AbortSignal.timeout would keep a timer and
  // its listeners alive for the whole timeout after every call.
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException('The upstream call timed out', 'TimeoutError')),
    app.upstreamTimeoutMs,
  );
  try {
    const response = await tokenRequest(app, grant, { fetch, signal: controller.signal });
    return parseTokenResponse(response, await response.text());
  } catch (error) {
    return failureResult(error);
  } finally {
    clearTimeout(timer);
  }
}
