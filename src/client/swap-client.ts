/**
 * The app side of the swap contract: `swap(code)` and `refresh(refreshToken)` against a swap
 * service. As in oauth4webapi, each step is split in two: a function that sends the request and
 * returns the raw Response, and a pure one that validates it (tested on hand-built Responses).
 */
import { abortKind } from '../shared/abort.js';
import { BodyTooLargeError, readTextUpTo } from '../shared/body.js';
import { parseTokenResponse, type TokenResponse } from '../shared/token-response.js';
import { SwapServiceError, SwapServiceUnreachableError } from './errors.js';

/** What a swap service answers (the service in this package, or any other following the contract). */
export type SwapTokenResponse = TokenResponse;

export interface SwapClientOptions {
  /** Base URL of the swap service, e.g. `https://swap.example.com`. */
  swapUrl: string;
  /** Injected `fetch`; the global one by default. */
  fetch?: typeof fetch;
  /** Default 15 s; the service itself gives up on Spotify after 10 s. */
  timeoutMs?: number;
  /** Override the paths for services with other routes (the Ruby service's `/api/token`, ...). */
  paths?: { swap?: string; refresh?: string };
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface SwapOptions extends CallOptions {
  /** The redirect URI used at /authorize; Spotify requires the exact same one. */
  redirectUri?: string;
  /** The PKCE verifier, when the authorize URL carried a challenge. */
  codeVerifier?: string;
}

export interface SwapClient {
  readonly swapUrl: string;
  swap(code: string, options?: SwapOptions): Promise<SwapTokenResponse>;
  refresh(refreshToken: string, options?: CallOptions): Promise<SwapTokenResponse>;
}

export const DEFAULT_SWAP_TIMEOUT_MS = 15_000;

/**
 * The service's answers are under 4 KiB; a swap service that sends more is broken or hostile, and is
 * not read further (a 300 MB answer would otherwise be held in memory whole).
 */
export const MAX_SWAP_RESPONSE_BYTES = 64 * 1024;

/** Sends one form POST to the swap service. Network failures surface as SwapServiceUnreachableError. */
export async function swapServiceRequest(
  url: string,
  fields: Record<string, string | undefined>,
  options: { fetch?: typeof fetch; signal: AbortSignal },
): Promise<Response> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) {
      body.set(name, value);
    }
  }
  const doFetch = options.fetch ?? fetch;
  try {
    return await doFetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body,
      // Never followed: a redirect would re-send the code, the verifier or the refresh token to
      // wherever it points, and take tokens from there.
      redirect: 'manual',
      signal: options.signal,
    });
  } catch (cause) {
    throw unreachable(cause, url);
  }
}

function unreachable(cause: unknown, url: string): SwapServiceUnreachableError {
  return new SwapServiceUnreachableError(abortKind(cause) ?? 'unreachable', url, cause);
}

/**
 * Validates a swap service answer with the same parser the service applies to Spotify's: the token
 * response, or a SwapServiceError carrying what it said. The service is untrusted input: a malformed
 * success is refused, never half accepted.
 */
export async function processSwapResponse(response: Response): Promise<SwapTokenResponse> {
  const fail = (error: string, description: string | undefined, retryAfter?: number) =>
    new SwapServiceError(error, description, response.status, retryAfter, response);
  // A browser's manual redirect is an opaque answer with status 0; elsewhere, a 3xx with a Location.
  if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
    await response.body?.cancel().catch(() => {});
    throw fail(
      'invalid_response',
      'The swap service answered with a redirect; token requests are never sent on to another address',
    );
  }
  let text: string;
  try {
    text = await readTextUpTo(response, MAX_SWAP_RESPONSE_BYTES);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    throw fail(
      'invalid_response',
      `The swap service answered with a body over ${MAX_SWAP_RESPONSE_BYTES} bytes`,
    );
  }
  const outcome = parseTokenResponse(response, text);
  switch (outcome.kind) {
    case 'ok':
      return outcome.tokens;
    case 'oauth_error':
      throw fail(outcome.error, outcome.description);
    case 'rate_limited':
    case 'server_error':
      if (outcome.error === undefined) {
        throw fail(
          'invalid_response',
          `The swap service answered HTTP ${response.status} without a JSON error`,
          outcome.retryAfter,
        );
      }
      throw fail(outcome.error, outcome.description, outcome.retryAfter);
    case 'invalid_response':
      throw fail('invalid_response', `The swap service answered ${outcome.reason}`);
  }
}

export function createSwapClient(options: SwapClientOptions): SwapClient {
  const base = options.swapUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_SWAP_TIMEOUT_MS;
  const swapPath = options.paths?.swap ?? '/swap';
  const refreshPath = options.paths?.refresh ?? '/refresh';

  const signalFor = (signal: AbortSignal | undefined) =>
    signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);

  async function call(path: string, fields: Record<string, string | undefined>, signal?: AbortSignal) {
    const url = `${base}${path}`;
    const combined = signalFor(signal);
    const response = await swapServiceRequest(url, fields, { fetch: options.fetch, signal: combined });
    try {
      return await processSwapResponse(response);
    } catch (error) {
      // The body read can time out too.
      if (error instanceof SwapServiceError) throw error;
      throw unreachable(error, url);
    }
  }

  return {
    swapUrl: base,
    swap(code, swapOptions = {}) {
      return call(
        swapPath,
        { code, redirect_uri: swapOptions.redirectUri, code_verifier: swapOptions.codeVerifier },
        swapOptions.signal,
      );
    },
    refresh(refreshToken, callOptions = {}) {
      return call(refreshPath, { refresh_token: refreshToken }, callOptions.signal);
    },
  };
}
