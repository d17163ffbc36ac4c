/**
 * The flow a browser app runs: Authorization Code + PKCE at Accounts, the code to the swap service,
 * refreshes through it, and sign-out by revoking there. The client kit does the OAuth parts; this adds
 * the page and the tab's storage.
 */
import {
  AuthorizationError,
  createAuthorizeUrl,
  type RevokeResult,
  type SwapClient,
  SwapServiceError,
  type TokenSet,
  tokenSetFromResponse,
} from '../../client/index.js';
import type { DemoConfig } from '../config.js';
import { DemoError, describeError } from './errors.js';
import { processProfileResponse, profileRequest } from './profile.js';
import type { DemoStorage } from './storage.js';
import type { View } from './view.js';

/** What both modes' flows have: the page, the tab's storage (the pending login), the profile call. */
export interface DemoBase {
  config: DemoConfig;
  view: View;
  storage: DemoStorage;
  /** For the profile call. */
  fetch: typeof fetch;
  location: Pick<Location, 'assign' | 'search'>;
  history: Pick<History, 'replaceState'>;
  /** False over plain http on a non-loopback host, where browsers hide WebCrypto. */
  isSecureContext: boolean;
}

/** Tab mode: the tokens in the tab's sessionStorage, refreshed and revoked with the swap client. */
export interface Demo extends DemoBase {
  client: SwapClient;
}

/** Runs one user action: the buttons wait for it, and what fails is shown rather than thrown. */
export async function run(demo: DemoBase, action: () => Promise<void>): Promise<void> {
  demo.view.clearError();
  demo.view.setBusy(true);
  try {
    await action();
  } catch (error) {
    demo.view.showError(describeError(error, demo.config.serviceUrl));
  } finally {
    demo.view.setStatus('');
    demo.view.setBusy(false);
  }
}

export async function login(demo: DemoBase): Promise<void> {
  if (!demo.isSecureContext || !globalThis.crypto?.subtle) {
    throw new DemoError(
      'insecure_context',
      'PKCE needs WebCrypto, which browsers offer only over https or on 127.0.0.1.',
    );
  }
  const { config } = demo;
  const request = await createAuthorizeUrl({
    clientId: config.clientId,
    redirectUri: config.redirectUri,
    scopes: config.scopes,
    accountsUrl: config.accountsUrl,
  });
  demo.storage.savePending({ state: request.state, codeVerifier: request.codeVerifier });
  demo.view.setStatus('Going to Spotify Accounts…');
  demo.location.assign(request.url);
}

export async function loadProfile(demo: DemoBase, accessToken: string): Promise<void> {
  demo.view.showProfileLoading();
  try {
    const response = await profileRequest(demo.config.accountsUrl, accessToken, demo.fetch);
    demo.view.showProfile(await processProfileResponse(response));
  } catch (error) {
    demo.view.showProfileUnavailable();
    throw error;
  }
}

function signedIn(demo: Demo, tokens: TokenSet): Promise<void> {
  demo.storage.saveSession(tokens);
  demo.view.showSession(tokens);
  return loadProfile(demo, tokens.accessToken);
}

/**
 * The callback's checks, both modes: the code out of the address bar, Accounts' error said, the state
 * compared with the pending login's. Resolves with the code and the pending login's verifier.
 */
export function checkedCallback(
  demo: DemoBase,
  params: URLSearchParams,
): { code: string; codeVerifier: string } {
  const { config } = demo;
  // A code is single use and must not linger: out of the address bar and history before anything else.
  demo.history.replaceState(null, '', config.homePath);
  const pending = demo.storage.takePending();
  demo.view.showLoggedOut();
  const error = params.get('error');
  if (error === 'access_denied') {
    throw new AuthorizationError(
      'access_denied',
      'Login cancelled. You chose Cancel on the consent page, so the app got no code.',
      error,
    );
  }
  if (error) {
    throw new AuthorizationError(
      'authorization_error',
      params.get('error_description') || 'Spotify Accounts refused the login.',
      error,
    );
  }
  if (!pending || params.get('state') !== pending.state) {
    throw new AuthorizationError(
      'state_mismatch',
      'This callback does not answer a login started in this tab (its state differs), so its code was not used. Log in again.',
    );
  }
  return { code: params.get('code') ?? '', codeVerifier: pending.codeVerifier };
}

async function handleCallback(demo: Demo, params: URLSearchParams): Promise<void> {
  const { config } = demo;
  const { code, codeVerifier } = checkedCallback(demo, params);
  demo.view.setStatus(`Swapping the code for tokens at ${config.serviceUrl}/swap…`);
  const answer = await demo.client.swap(code, { redirectUri: config.redirectUri, codeVerifier });
  await signedIn(demo, tokenSetFromResponse(answer));
}

async function refresh(demo: Demo): Promise<void> {
  const session = demo.storage.loadSession();
  if (!session?.refreshToken) {
    demo.view.showLoggedOut();
    throw new DemoError('not_logged_in', 'There is no refresh token in this tab. Log in again.');
  }
  demo.view.setStatus(`Refreshing at ${demo.config.serviceUrl}/refresh…`);
  let answer: Awaited<ReturnType<SwapClient['refresh']>>;
  try {
    answer = await demo.client.refresh(session.refreshToken);
  } catch (error) {
    if (error instanceof SwapServiceError && error.error === 'invalid_grant') {
      // A refresh token that is refused stays refused (docs/spotify-accounts.md §6): keeping the
      // session would only show a countdown for tokens nobody accepts.
      forget(demo);
      throw new DemoError(
        'invalid_grant',
        `${error.errorDescription ?? 'The refresh token was refused'}. This tab's refresh token is no longer accepted (the sandbox forgets its tokens, and its sealing secret, when it restarts; Spotify's expire or are revoked), so the session was cleared. Log in again.`,
      );
    }
    throw error;
  }
  await signedIn(demo, tokenSetFromResponse(answer, Date.now(), session));
  demo.view.showRefreshed(Date.now());
}

/** Forgets this tab's login, without a word to the service: for one it has refused already. */
function forget(demo: Demo): void {
  demo.storage.clear();
  demo.view.clearError();
  demo.view.showLoggedOut();
}

/**
 * Sign-out: the login revoked at the swap service first, then forgotten in this tab whatever came of
 * that (an answer other than the kit's three outcomes is shown as an error, after the forgetting).
 */
async function signOut(demo: Demo): Promise<void> {
  const refreshToken = demo.storage.loadSession()?.refreshToken;
  let result: RevokeResult | undefined;
  try {
    if (refreshToken) {
      demo.view.setStatus(`Revoking the login at ${demo.config.serviceUrl}/revoke…`);
      result = await demo.client.revoke(refreshToken);
    }
  } finally {
    forget(demo);
  }
  demo.view.showSignedOut(result?.outcome ?? 'nothing_to_revoke');
}

/** What the page does on load: finish a login that comes back, show a session this tab has, or neither. */
export function start(demo: Demo): void {
  demo.view.onLogin(() => void run(demo, () => login(demo)));
  demo.view.onRefresh(() => void run(demo, () => refresh(demo)));
  demo.view.onLogout(() => void run(demo, () => signOut(demo)));

  const params = new URLSearchParams(demo.location.search);
  if (params.has('code') || params.has('error')) {
    void run(demo, () => handleCallback(demo, params));
    return;
  }
  const session = demo.storage.loadSession();
  if (session) {
    demo.view.showSession(session);
    void run(demo, () => loadProfile(demo, session.accessToken));
  } else {
    demo.view.showLoggedOut();
  }
}
