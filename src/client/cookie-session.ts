/**
 * A browser session in cookie mode (docs/sessions.md, the token-mediating backend of the IETF
 * browser-apps BCP): the service keeps the sealed refresh token in an HttpOnly cookie, and the page
 * only ever holds access tokens, in memory. The page still runs PKCE (createAuthorizeUrl) and hands
 * the code to `POST /session/swap`; `POST /session/token` then answers access tokens from the cookie,
 * and `POST /session/logout` revokes and clears it. Every call carries the cookie
 * (`credentials: 'include'`) and `X-CSRF: 1`, which the service requires of session requests.
 *
 * The answers are judged by the swap client's readers (answer.ts, processSwapResponse,
 * processRevokeResponse): a redirect, an oversized or malformed answer is refused. DPoP is not part
 * of this mode: the refresh token never reaches the page, so there is nothing in it to bind.
 */
import { abortKind } from '../shared/abort.js';
import { LoginRequiredError, SwapServiceError, SwapServiceUnreachableError } from './errors.js';
import { processRevokeResponse } from './revoke.js';
import type { LogoutResult } from './session.js';
import { waitFor } from './session.js';
import { createSignInWatch, type SignInNotice } from './sign-in.js';
import { DEFAULT_SWAP_TIMEOUT_MS, processSwapResponse, swapServiceRequest } from './swap-client.js';
import { DEFAULT_EXPIRY_SKEW_MS, isExpired, type TokenSet, tokenSetFromResponse } from './token-set.js';

export interface CookieSessionOptions {
  /**
   * Base URL of the swap service, with the app's prefix when it has one (`https://auth.example.com`,
   * `https://auth.example.com/apps/web`). It must be on the page's site, or the browser keeps the
   * `SameSite=Strict` cookie to itself (docs/clients/browser.md). `serviceUrl` is the same.
   */
  swapUrl?: string;
  serviceUrl?: string;
  /** Injected `fetch`; the global one by default. */
  fetch?: typeof fetch;
  /** Default 15 s, as the swap client's. */
  timeoutMs?: number;
  /** Ask the service again this long before the access token expires. Default one minute. */
  skewMs?: number;
  now?: () => number;
  /** As createSession's: told once in the login's last `signInWarningDays`, and once when it ended. */
  onSignInNeeded?: (notice: SignInNotice) => void;
  /** Default 14. */
  signInWarningDays?: number;
}

export interface CookieSessionSwapOptions {
  /** The redirect URI used at /authorize; Spotify requires the exact same one. */
  redirectUri: string;
  /** The PKCE verifier of the authorize URL. */
  codeVerifier?: string;
  signal?: AbortSignal;
}

export interface CookieSession {
  readonly swapUrl: string;
  /** Exchanges the code at `/session/swap`: the cookie gets the refresh token, the page the rest. */
  swap(code: string, options: CookieSessionSwapOptions): Promise<TokenSet>;
  /** A valid access token: the one in memory, else the service's (`/session/token`). */
  getAccessToken(options?: { signal?: AbortSignal }): Promise<string>;
  /** The same as getAccessToken. */
  accessToken(options?: { signal?: AbortSignal }): Promise<string>;
  /** The valid token set; its `refreshToken` is always undefined (the cookie has it). */
  getTokens(options?: { signal?: AbortSignal }): Promise<TokenSet>;
  /** Asks the service now, whatever is in memory (it answers its cached token while that is fresh). */
  refresh(options?: { signal?: AbortSignal }): Promise<TokenSet>;
  /**
   * When the user has to sign in again (epoch ms), asking the service once when nothing is in memory
   * (after a reload). Undefined when nobody is signed in, or the service never said.
   */
  signInNeededBy(options?: { signal?: AbortSignal }): Promise<number | undefined>;
  /**
   * Signs out at `/session/logout`: the service revokes the login and clears the cookie; the memory
   * is cleared whatever it answered. `revoked` is also the answer when this browser had no session.
   */
  logout(options?: { signal?: AbortSignal }): Promise<LogoutResult>;
  /**
   * A Web API call through the service's proxy (`{swapUrl}/spotify/v1/...`), with the cookie and
   * `X-CSRF`; `path` starts with `/v1/`. The answer comes back as it is, whatever its status.
   */
  apiFetch(path: string, init?: RequestInit): Promise<Response>;
}

const CSRF = { name: 'X-CSRF', value: '1' } as const;

/** The session's endpoints, and the answers that end it (docs/sessions.md, "The endpoints"). */
const PATHS = { swap: '/session/swap', token: '/session/token', logout: '/session/logout' } as const;

function baseOf(options: CookieSessionOptions): string {
  const given = options.swapUrl ?? options.serviceUrl;
  if (!given) throw new TypeError('createCookieSession: swapUrl (or serviceUrl) is required');
  return given.replace(/\/+$/, '');
}

/** `/session/token`'s refusals that mean "sign in again": no cookie, or a login that ended. */
function endOf(error: unknown): LoginRequiredError | undefined {
  if (!(error instanceof SwapServiceError)) return undefined;
  if (error.error === 'login_required') return new LoginRequiredError('not_logged_in');
  if (error.error !== 'invalid_grant') return undefined;
  // This service says "The login expired on ..." (docs/sealed-tokens.md), as for createSession.
  const ended = /expired/i.test(error.errorDescription ?? '');
  return new LoginRequiredError(ended ? 'expired' : 'refresh_token_rejected', error.errorDescription);
}

export function createCookieSession(options: CookieSessionOptions): CookieSession {
  const base = baseOf(options);
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const timeoutMs = options.timeoutMs ?? DEFAULT_SWAP_TIMEOUT_MS;
  const skewMs = options.skewMs ?? DEFAULT_EXPIRY_SKEW_MS;
  const now = options.now ?? Date.now;
  const watch = createSignInWatch(options.onSignInNeeded, options.signInWarningDays, now);
  const signalFor = (signal: AbortSignal | undefined) =>
    signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);

  // Memory only: a reload asks the service, which answers from the cookie without a Spotify call.
  let tokens: TokenSet | undefined;
  let inFlight: Promise<TokenSet> | undefined;

  /** The swap client's request, with the cookie and the CSRF header that session requests need. */
  const credentialed: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set(CSRF.name, CSRF.value);
    return doFetch(input, { ...init, headers, credentials: 'include' });
  };

  async function post<T>(
    path: string,
    fields: Record<string, string | undefined>,
    signal: AbortSignal | undefined,
    process: (response: Response) => Promise<T>,
  ): Promise<T> {
    const url = `${base}${path}`;
    const response = await swapServiceRequest(url, fields, {
      fetch: credentialed,
      signal: signalFor(signal),
    });
    try {
      return await process(response);
    } catch (error) {
      if (error instanceof SwapServiceError) throw error;
      throw new SwapServiceUnreachableError(abortKind(error) ?? 'unreachable', url, error);
    }
  }

  /** A session answer as tokens; a refresh token, should one come, is not kept: the cookie has it. */
  async function tokensFrom(response: Response): Promise<TokenSet> {
    const answer = await processSwapResponse(response);
    const { refresh_token: _notKept, ...rest } = answer;
    return tokenSetFromResponse(rest, now(), tokens);
  }

  async function fetchToken(): Promise<TokenSet> {
    try {
      tokens = await post(PATHS.token, {}, undefined, tokensFrom);
      return tokens;
    } catch (error) {
      const ended = endOf(error);
      if (!ended) throw error;
      tokens = undefined;
      throw ended;
    }
  }

  /** One `/session/token` at a time: concurrent callers share it, each caller's signal ends only its wait. */
  function tokenOnce(signal: AbortSignal | undefined): Promise<TokenSet> {
    inFlight ??= watch.sawRefresh(fetchToken()).finally(() => {
      inFlight = undefined;
    });
    return waitFor(inFlight, signal);
  }

  async function getTokens(call: { signal?: AbortSignal } = {}): Promise<TokenSet> {
    if (tokens && !isExpired(tokens, skewMs, now())) {
      watch.saw(tokens);
      return tokens;
    }
    return tokenOnce(call.signal);
  }

  const getAccessToken = async (call: { signal?: AbortSignal } = {}) => (await getTokens(call)).accessToken;

  return {
    swapUrl: base,
    async swap(code, swapOptions) {
      const fields = {
        code,
        redirect_uri: swapOptions.redirectUri,
        code_verifier: swapOptions.codeVerifier,
      };
      tokens = undefined;
      const signedIn = await post(PATHS.swap, fields, swapOptions.signal, tokensFrom);
      tokens = signedIn;
      watch.saw(signedIn);
      return signedIn;
    },
    getAccessToken,
    accessToken: getAccessToken,
    getTokens,
    refresh: (call = {}) => tokenOnce(call.signal),
    async signInNeededBy(call = {}) {
      try {
        return (await getTokens(call)).refreshTokenExpiresAt;
      } catch (error) {
        if (error instanceof LoginRequiredError) return undefined;
        throw error;
      }
    },
    async logout(call = {}) {
      // A token call in flight would otherwise put its answer back in memory after the clear.
      await inFlight?.catch(() => {});
      tokens = undefined;
      try {
        return await post(PATHS.logout, {}, call.signal, processRevokeResponse);
      } catch (error) {
        if (error instanceof SwapServiceUnreachableError) return { outcome: 'unreachable', error };
        return { outcome: 'failed', error };
      }
    },
    apiFetch(path, init) {
      return proxyFetch(base, path, init, credentialed);
    },
  };
}

/**
 * One call through the service's Web API proxy. The path is checked after the URL parser has
 * normalised it (`..`, `%2e%2e`): the cookie and the CSRF header go to the proxy's paths only.
 */
async function proxyFetch(
  base: string,
  path: string,
  init: RequestInit | undefined,
  credentialed: typeof fetch,
): Promise<Response> {
  const prefix = `${new URL(base).pathname.replace(/\/+$/, '')}/spotify/v1/`;
  const url = new URL(`${base}/spotify${path.startsWith('/') ? '' : '/'}${path}`);
  if (!path.startsWith('/v1/') || !url.pathname.startsWith(prefix) || url.origin !== new URL(base).origin) {
    throw new TypeError(`apiFetch: the path must be a Spotify Web API path under /v1/: ${path}`);
  }
  try {
    return await credentialed(url.href, { ...init, redirect: 'manual' });
  } catch (cause) {
    throw new SwapServiceUnreachableError(abortKind(cause) ?? 'unreachable', url.href, cause);
  }
}
