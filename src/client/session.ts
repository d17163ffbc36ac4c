/**
 * A session hands out a valid access token: it refreshes ahead of expiry, runs one refresh at a
 * time per store in this process (single flight) and, when the store can lock, one at a time
 * across processes; it saves rotated tokens, and on `invalid_grant` it forgets the login and says
 * that the user must log in again (Spotify: do not retry, discard the token). It also tells the app
 * ahead of time when the login nears its end (sign-in.ts), and signs out: revoke at the service, then
 * forget, whatever the revocation came to. A login made with a DPoP key keeps it (`StoredLogin.dpopKey`),
 * and every refresh and revocation of it carries a proof by that key.
 */
import { LoginRequiredError, SwapServiceError, SwapServiceUnreachableError } from './errors.js';
import type { RevokeResult } from './revoke.js';
import { createSignInWatch, type SignInNotice } from './sign-in.js';
import type { StoredLogin, TokenStore } from './store.js';
import { createSwapClient, type SwapClient } from './swap-client.js';
import { DEFAULT_EXPIRY_SKEW_MS, isExpired, type TokenSet, tokenSetFromResponse } from './token-set.js';

export interface SessionOptions {
  store: TokenStore;
  /** The swap client; by default one for the stored login's `swapUrl`. */
  client?: SwapClient;
  /** Used to build the default client. */
  fetch?: typeof fetch;
  /** Refresh this long before expiry. Default one minute. */
  skewMs?: number;
  now?: () => number;
  /**
   * Told once when the login enters its last `signInWarningDays` (`soon`), and once when it has
   * ended (`ended`, by the clock or because the swap service said so), so the app can ask the user
   * to sign in again in its own time. Called from the call that noticed, before it returns; what it
   * throws, that call throws.
   */
  onSignInNeeded?: (notice: SignInNotice) => void;
  /** Default 14. */
  signInWarningDays?: number;
}

export interface Session {
  /** A valid access token, refreshed first when needed. */
  getAccessToken(options?: { signal?: AbortSignal }): Promise<string>;
  /** The whole valid token set, refreshed first when needed. */
  getTokens(options?: { signal?: AbortSignal }): Promise<TokenSet>;
  /** Refreshes now, whatever the expiry. */
  refresh(options?: { signal?: AbortSignal }): Promise<TokenSet>;
  /** The stored login, as it is (possibly expired), or undefined. */
  current(): Promise<StoredLogin | undefined>;
  /**
   * When the user has to sign in again (epoch ms): the stored login's end. Undefined when nobody is
   * logged in, or the swap service never said when the login ends.
   */
  signInNeededBy(): Promise<number | undefined>;
  /**
   * Signs out: revokes the login at the swap service, then forgets it, whatever the revocation came
   * to (a failure never keeps the tokens stored). Resolves with what the revocation came to.
   */
  logout(options?: { signal?: AbortSignal }): Promise<LogoutResult>;
}

/**
 * What signing out did at the swap service; in every case the login is forgotten. `unsupported`,
 * `unreachable` and `failed` mean it was not revoked there: its tokens still work until they expire.
 */
export type LogoutResult =
  | RevokeResult
  /** Any other answer (a SwapServiceError), or a stored login that could not be read (the store's error). */
  | { outcome: 'failed'; error: unknown }
  /** Nothing was stored. */
  | { outcome: 'not_logged_in' }
  /** The stored login had no refresh token, so there was nothing to revoke. */
  | { outcome: 'no_refresh_token' };

// One in-flight refresh per store object, shared by every session on it in this process.
const inFlight = new WeakMap<TokenStore, Promise<TokenSet>>();

/** `promise`, or an AbortError as soon as `signal` aborts; the promise itself runs on. */
export function waitFor<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(aborted(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function aborted(signal: AbortSignal): SwapServiceUnreachableError {
  return new SwapServiceUnreachableError('aborted', 'the swap service', signal.reason);
}

export function createSession(options: SessionOptions): Session {
  const { store } = options;
  const skewMs = options.skewMs ?? DEFAULT_EXPIRY_SKEW_MS;
  const now = options.now ?? Date.now;
  const watch = createSignInWatch(options.onSignInNeeded, options.signInWarningDays, now);

  async function loadLogin(): Promise<StoredLogin> {
    const login = await store.load();
    if (!login) {
      throw new LoginRequiredError('not_logged_in');
    }
    return login;
  }

  /** One call to the swap service; `invalid_grant` forgets the login (Spotify: discard, log in again). */
  async function refreshWith(login: StoredLogin, refreshToken: string): Promise<TokenSet> {
    const client = options.client ?? createSwapClient({ swapUrl: login.swapUrl, fetch: options.fetch });
    try {
      const response = await client.refresh(refreshToken, { dpopKey: login.dpopKey });
      return tokenSetFromResponse(response, now(), login.tokens);
    } catch (error) {
      if (error instanceof SwapServiceError && error.error === 'invalid_grant') {
        await store.clear();
        // This service says "The login expired on ..." (docs/sealed-tokens.md). Spotify's text for it is
        // not published (docs/spotify-accounts.md §6), so for one that passes it through, "expired" is the sign.
        const ended = /expired/i.test(error.errorDescription ?? '');
        throw new LoginRequiredError(ended ? 'expired' : 'refresh_token_rejected', error.errorDescription);
      }
      throw error;
    }
  }

  /** Revokes the stored login's refresh token. Never throws: every failure is an outcome. */
  async function revokeStored(signal: AbortSignal | undefined): Promise<LogoutResult> {
    let login: StoredLogin | undefined;
    try {
      login = await store.load();
    } catch (error) {
      return { outcome: 'failed', error };
    }
    if (!login) return { outcome: 'not_logged_in' };
    const refreshToken = login.tokens.refreshToken;
    if (refreshToken === undefined) return { outcome: 'no_refresh_token' };
    const client = options.client ?? createSwapClient({ swapUrl: login.swapUrl, fetch: options.fetch });
    try {
      return await client.revoke(refreshToken, { signal, dpopKey: login.dpopKey });
    } catch (error) {
      return { outcome: 'failed', error };
    }
  }

  async function refreshLocked(stale: TokenSet | undefined): Promise<TokenSet> {
    const release = store.lock ? await store.lock() : undefined;
    try {
      // Another process may have refreshed while this one waited for the lock.
      const login = await loadLogin();
      const changed = stale !== undefined && login.tokens.accessToken !== stale.accessToken;
      if (changed && !isExpired(login.tokens, skewMs, now())) {
        return login.tokens;
      }
      const refreshToken = login.tokens.refreshToken;
      if (refreshToken === undefined) {
        throw new LoginRequiredError('no_refresh_token');
      }
      const tokens = await refreshWith(login, refreshToken);
      await store.save({ ...login, tokens });
      return tokens;
    } finally {
      await release?.();
    }
  }

  /**
   * The one refresh in flight for this store, whoever asked first. It runs without any caller's signal
   * (the swap client bounds it in time): a caller that gives up must not fail the others, nor lose a
   * rotated refresh token that the call may already have been handed. Each caller's signal ends only
   * that caller's wait.
   */
  function refreshOnce(stale: TokenSet | undefined, signal: AbortSignal | undefined): Promise<TokenSet> {
    let running = inFlight.get(store);
    if (!running) {
      running = refreshLocked(stale).finally(() => inFlight.delete(store));
      inFlight.set(store, running);
    }
    return waitFor(running, signal);
  }

  async function getTokens(options: { signal?: AbortSignal } = {}): Promise<TokenSet> {
    const login = await loadLogin();
    watch.saw(login.tokens);
    if (!isExpired(login.tokens, skewMs, now())) {
      return login.tokens;
    }
    return watch.sawRefresh(refreshOnce(login.tokens, options.signal));
  }

  return {
    getTokens,
    async getAccessToken(callOptions) {
      return (await getTokens(callOptions)).accessToken;
    },
    refresh(callOptions = {}) {
      return watch.sawRefresh(refreshOnce(undefined, callOptions.signal));
    },
    current: () => store.load(),
    async signInNeededBy() {
      return (await store.load())?.tokens.refreshTokenExpiresAt;
    },
    async logout(callOptions = {}) {
      // A refresh in flight here would save its answer after the clear, and so log the user back in.
      await inFlight.get(store)?.catch(() => {});
      // The same across processes (the lock). Signing out must not fail for want of it: a lock that
      // cannot be had (lock_timeout) only loses that ordering.
      const release = store.lock ? await store.lock().catch(() => undefined) : undefined;
      try {
        const result = await revokeStored(callOptions.signal);
        await store.clear();
        return result;
      } finally {
        await release?.();
      }
    },
  };
}
