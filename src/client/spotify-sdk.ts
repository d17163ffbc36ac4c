/**
 * An auth strategy for Spotify's own TypeScript SDK (`@spotify/web-api-ts-sdk`): `new SpotifyApi(
 * spotifySdkAuth(session))` calls the Web API with the session's access token, which the session
 * refreshes through the swap service ahead of expiry (and with its DPoP key, when the login has one).
 * The kit does not depend on the SDK: this is its `IAuthStrategy` written out structurally (the
 * SDK's `src/auth/IAuthStrategy.ts`), and test/clients/spotify-sdk.test.ts proves the SDK accepts it.
 */
import type { LogoutResult, Session } from './session.js';
import type { TokenSet } from './token-set.js';

/** The SDK's `AccessToken` (its `src/types.ts`). */
export interface SpotifySdkAccessToken {
  access_token: string;
  token_type: string;
  /** Whole seconds left, when handed out. */
  expires_in: number;
  /**
   * Always empty: the sealed refresh token stays with the session, which refreshes at the swap service.
   * The SDK would send it to Spotify, which cannot use it.
   */
  refresh_token: string;
  /** Epoch ms. */
  expires?: number;
}

/** What `SpotifyApi` asks of an auth strategy (the SDK's `IAuthStrategy`). */
export interface SpotifySdkAuthStrategy {
  setConfiguration(configuration: unknown): void;
  getOrCreateAccessToken(): Promise<SpotifySdkAccessToken>;
  getAccessToken(): Promise<SpotifySdkAccessToken | null>;
  removeAccessToken(): void;
}

export interface SpotifySdkAuthOptions {
  /**
   * `SpotifyApi.logOut()` signs out through the session (revoke at the swap service, then forget);
   * the SDK's call returns nothing, so what that came to is told here.
   */
  onLogout?: (result: LogoutResult) => void;
  now?: () => number;
}

function accessTokenOf(tokens: TokenSet, now: number): SpotifySdkAccessToken {
  return {
    access_token: tokens.accessToken,
    token_type: tokens.tokenType,
    expires_in: Math.max(0, Math.floor((tokens.expiresAt - now) / 1000)),
    refresh_token: '',
    expires: tokens.expiresAt,
  };
}

/**
 * The strategy. A login that cannot be refreshed any more makes the SDK's call reject with the
 * session's `LoginRequiredError` (its default error handler passes errors on).
 */
export function spotifySdkAuth(
  session: Session,
  options: SpotifySdkAuthOptions = {},
): SpotifySdkAuthStrategy {
  const now = options.now ?? Date.now;
  return {
    // The SDK's configuration (fetch, caching, redirection) is for its own flows; the session has its own.
    setConfiguration() {},
    async getOrCreateAccessToken() {
      return accessTokenOf(await session.getTokens(), now());
    },
    async getAccessToken() {
      const login = await session.current();
      return login ? accessTokenOf(login.tokens, now()) : null;
    },
    removeAccessToken() {
      const tell = options.onLogout ?? (() => {});
      // Session.logout resolves with every revocation outcome; only the store itself can reject.
      session.logout().then(tell, (error: unknown) => tell({ outcome: 'failed', error }));
    },
  };
}
