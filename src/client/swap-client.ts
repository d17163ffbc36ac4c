/**
 * The app side of the swap contract: `swap(code)`, `refresh(refreshToken)` and `revoke(refreshToken)`
 * against a swap service. As in oauth4webapi, each step is split in two: a function that sends the request and
 * returns the raw Response, and a pure one that validates it (tested on hand-built Responses).
 */
import { abortKind } from '../shared/abort.js';
import { parseTokenResponse, type TokenResponse } from '../shared/token-response.js';
import { readAnswerText, refusal, refuseRedirect } from './answer.js';
import { createDpopProof, type DpopKey } from './dpop.js';
import { SwapServiceError, SwapServiceUnreachableError } from './errors.js';
import { processRevokeResponse, type RevokeResult } from './revoke.js';

export { MAX_SWAP_RESPONSE_BYTES } from './answer.js';

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
  paths?: { swap?: string; refresh?: string; revoke?: string };
  /**
   * Sends a DPoP proof by this key on every call (RFC 9449), so that the service binds the refresh
   * token to it; a call's own `dpopKey` takes its place.
   */
  dpopKey?: DpopKey;
  /** The clock for the proofs' `iat` (epoch ms). */
  now?: () => number;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** The key of the login this call is for: a refresh token bound to it refreshes only with its proof. */
  dpopKey?: DpopKey | undefined;
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
  /**
   * Ends the login at the service (sign-out): `revoked`, `unsupported` where it keeps no revocations,
   * `unreachable` without an answer. Any other answer throws a SwapServiceError.
   */
  revoke(refreshToken: string, options?: CallOptions): Promise<RevokeResult>;
}

export const DEFAULT_SWAP_TIMEOUT_MS = 15_000;

/** Sends one form POST to the swap service. Network failures surface as SwapServiceUnreachableError. */
export async function swapServiceRequest(
  url: string,
  fields: Record<string, string | undefined>,
  options: { fetch?: typeof fetch; signal: AbortSignal; dpop?: string | undefined },
): Promise<Response> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) {
      body.set(name, value);
    }
  }
  const doFetch = options.fetch ?? fetch;
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
    Accept: 'application/json',
  };
  if (options.dpop !== undefined) headers.DPoP = options.dpop;
  try {
    return await doFetch(url, {
      method: 'POST',
      headers,
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
  await refuseRedirect(response);
  const outcome = parseTokenResponse(response, await readAnswerText(response));
  if (outcome.kind === 'ok') return outcome.tokens;
  throw refusal(response, outcome);
}

export function createSwapClient(options: SwapClientOptions): SwapClient {
  const base = options.swapUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_SWAP_TIMEOUT_MS;
  const swapPath = options.paths?.swap ?? '/swap';
  const refreshPath = options.paths?.refresh ?? '/refresh';
  const revokePath = options.paths?.revoke ?? '/revoke';

  const signalFor = (signal: AbortSignal | undefined) =>
    signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);

  // The latest nonce the service sent (RFC 9449 §8): every later proof carries it.
  let nonce: string | undefined;

  /** One request, its answer judged by `process`; a network failure (the body read too) is unreachable. */
  async function send<T>(
    url: string,
    fields: Record<string, string | undefined>,
    call: CallOptions,
    process: (response: Response) => Promise<T>,
  ): Promise<T> {
    const key = call.dpopKey ?? options.dpopKey;
    const dpop = key && (await createDpopProof(key, { method: 'POST', url, nonce, now: options.now }));
    const combined = signalFor(call.signal);
    const response = await swapServiceRequest(url, fields, { fetch: options.fetch, signal: combined, dpop });
    nonce = response.headers.get('dpop-nonce') ?? nonce;
    try {
      return await process(response);
    } catch (error) {
      // The body read can time out too.
      if (error instanceof SwapServiceError) throw error;
      throw unreachable(error, url);
    }
  }

  /**
   * `send`, and once more with the service's nonce when it refused the proof for want of one
   * (`use_dpop_nonce`, RFC 9449 §8): it refused before using the code or the token, so both still work.
   */
  async function call<T>(
    path: string,
    fields: Record<string, string | undefined>,
    callOptions: CallOptions,
    process: (response: Response) => Promise<T>,
  ): Promise<T> {
    const url = `${base}${path}`;
    const sentWith = nonce;
    try {
      return await send(url, fields, callOptions, process);
    } catch (error) {
      const retry =
        error instanceof SwapServiceError && error.error === 'use_dpop_nonce' && nonce !== sentWith;
      if (!retry) throw error;
      return await send(url, fields, callOptions, process);
    }
  }

  return {
    swapUrl: base,
    swap(code, swapOptions = {}) {
      return call(
        swapPath,
        { code, redirect_uri: swapOptions.redirectUri, code_verifier: swapOptions.codeVerifier },
        swapOptions,
        processSwapResponse,
      );
    },
    refresh(refreshToken, callOptions = {}) {
      return call(refreshPath, { refresh_token: refreshToken }, callOptions, processSwapResponse);
    },
    async revoke(refreshToken, callOptions = {}) {
      // The hint is RFC 7009's (§2.1): the service issues refresh tokens only, and says so.
      const fields = { token: refreshToken, token_type_hint: 'refresh_token' };
      try {
        return await call(revokePath, fields, callOptions, processRevokeResponse);
      } catch (error) {
        if (error instanceof SwapServiceUnreachableError) return { outcome: 'unreachable', error };
        throw error;
      }
    },
  };
}
