/**
 * The app side of the swap contract: `swap(code)` and `refresh(refreshToken)` against a swap
 * service. As in oauth4webapi, each step is split in two: a function that sends the request and
 * returns the raw Response, and a pure one that validates it (tested on hand-built Responses).
 */
import { SwapServiceError, SwapServiceUnreachableError } from './errors.js';

/** What a swap service answers (the service in this package, or any other following the contract). */
export interface SwapTokenResponse {
  access_token: string;
  token_type: string;
  /** Seconds. */
  expires_in: number;
  scope: string;
  /** Always on swap; on refresh only when Spotify rotated it. */
  refresh_token?: string;
}

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
      signal: options.signal,
    });
  } catch (cause) {
    throw unreachable(cause, url);
  }
}

function unreachable(cause: unknown, url: string): SwapServiceUnreachableError {
  const name = (cause as { name?: unknown } | null)?.name;
  return new SwapServiceUnreachableError(
    name === 'TimeoutError' ? 'timeout' : name === 'AbortError' ? 'aborted' : 'unreachable',
    url,
    cause,
  );
}

function retryAfter(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
}

/** Validates a swap service answer: the token response, or a SwapServiceError carrying what it said. */
export async function processSwapResponse(response: Response): Promise<SwapTokenResponse> {
  let body: unknown;
  try {
    body = JSON.parse(await response.text());
  } catch {
    body = undefined;
  }
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;

  if (!response.ok) {
    const error = typeof record?.error === 'string' ? record.error : 'invalid_response';
    const description =
      typeof record?.error_description === 'string'
        ? record.error_description
        : typeof record?.error === 'string'
          ? undefined
          : `The swap service answered HTTP ${response.status} without a JSON error`;
    throw new SwapServiceError(error, description, response.status, retryAfter(response), response);
  }

  const expiresIn =
    typeof record?.expires_in === 'string' && /^\d+$/.test(record.expires_in)
      ? Number(record.expires_in)
      : record?.expires_in;
  if (
    typeof record?.access_token !== 'string' ||
    typeof expiresIn !== 'number' ||
    !Number.isFinite(expiresIn)
  ) {
    throw new SwapServiceError(
      'invalid_response',
      'The swap service answered without access_token and expires_in',
      response.status,
      undefined,
      response,
    );
  }
  const tokens: SwapTokenResponse = {
    access_token: record.access_token,
    token_type: typeof record.token_type === 'string' ? record.token_type : 'Bearer',
    expires_in: expiresIn,
    scope: typeof record.scope === 'string' ? record.scope : '',
  };
  if (typeof record.refresh_token === 'string' && record.refresh_token !== '') {
    tokens.refresh_token = record.refresh_token;
  }
  return tokens;
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
