/**
 * The app-side kit, Web APIs only (browsers, Node, Deno, Bun, React Native with WebCrypto).
 * Node-only pieces (loopback redirect catcher, file token store) are in `spotify-token-swap/client/node`.
 */
export type { AuthorizeRequest, AuthorizeUrlOptions } from './authorize-url.js';
export { createAuthorizeUrl, SPOTIFY_ACCOUNTS_URL } from './authorize-url.js';
export type {
  CookieSession,
  CookieSessionOptions,
  CookieSessionSwapOptions,
} from './cookie-session.js';
export { createCookieSession } from './cookie-session.js';
export type { DpopKey, DpopProofOptions, DpopPublicJwk } from './dpop.js';
export {
  createDpopKey,
  createDpopProof,
  dpopThumbprint,
  exportDpopKey,
  importDpopKey,
} from './dpop.js';
export type { AuthorizationErrorCode, LoginRequiredReason } from './errors.js';
export {
  AuthorizationError,
  LoginRequiredError,
  SwapServiceError,
  SwapServiceUnreachableError,
} from './errors.js';
export type { IndexedDbStoreOptions } from './indexeddb-store.js';
export { createIndexedDbStore } from './indexeddb-store.js';
export type { Pkce } from './pkce.js';
export { createPkce, createState } from './pkce.js';
export type { RevokeResult } from './revoke.js';
export { processRevokeResponse, REVOCATION_UNAVAILABLE } from './revoke.js';
export type { LogoutResult, Session, SessionOptions } from './session.js';
export { createSession } from './session.js';
export type { SignInNotice } from './sign-in.js';
export type {
  SpotifySdkAccessToken,
  SpotifySdkAuthOptions,
  SpotifySdkAuthStrategy,
} from './spotify-sdk.js';
export { spotifySdkAuth } from './spotify-sdk.js';
export type { ReleaseLock, StoredLogin, TokenStore } from './store.js';
export { createMemoryStore } from './store.js';
export type {
  CallOptions,
  SwapClient,
  SwapClientOptions,
  SwapOptions,
  SwapTokenResponse,
} from './swap-client.js';
export {
  createSwapClient,
  DEFAULT_SWAP_TIMEOUT_MS,
  processSwapResponse,
  swapServiceRequest,
} from './swap-client.js';
export type { SignInNeed, TokenSet } from './token-set.js';
export {
  DEFAULT_EXPIRY_SKEW_MS,
  DEFAULT_SIGN_IN_WARNING_DAYS,
  isExpired,
  secondsUntilExpiry,
  signInNeed,
  tokenSetFromResponse,
} from './token-set.js';
export type { WebApiErrorAnswer } from './web-api.js';
export { describeWebApiError, QUOTA_EXCEEDED, readWebApiError } from './web-api.js';
