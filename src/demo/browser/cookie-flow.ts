/**
 * The demo in cookie mode (docs/sessions.md): the same login as tab mode (PKCE in the page, the
 * pending login in sessionStorage for the round trip), but the code goes to `/session/swap`, the
 * service keeps the refresh token in its HttpOnly cookie, and the page keeps only the access token,
 * in the kit's memory. A reload asks `/session/token`, which answers from the cookie; a session the
 * service ended (the login's end, a revocation) is said, and the page signs out.
 */
import { type CookieSession, LoginRequiredError, type TokenSet } from '../../client/index.js';
import { DemoError } from './errors.js';
import { checkedCallback, type DemoBase, loadProfile, login, run } from './flow.js';
import { proxyCall } from './proxy-tab.js';
import type { ProxyView } from './proxy-view.js';

export interface CookieDemo extends DemoBase {
  session: CookieSession;
  /** The Web API proxy tab, where the service proxies for this app (src/demo/config.ts). */
  proxy?: ProxyView;
}

function shown(demo: CookieDemo, tokens: TokenSet): Promise<void> {
  demo.view.showSession(tokens);
  return loadProfile(demo, tokens.accessToken);
}

/**
 * The service's word that this browser has no session (any more): quietly logged out when there was
 * none, else said. The service cleared its cookie already (docs/sessions.md, "The endpoints").
 */
function ended(demo: CookieDemo, error: unknown): never {
  if (!(error instanceof LoginRequiredError)) throw error;
  demo.view.showLoggedOut();
  if (error.code === 'not_logged_in') throw new DemoError('not_logged_in', 'Not signed in. Log in again.');
  throw new DemoError(
    'session_ended',
    `${error.message.replace(/\.$/, '')}. The service ended this browser's session and cleared its cookie. Log in again.`,
  );
}

async function handleCallback(demo: CookieDemo, params: URLSearchParams): Promise<void> {
  const { config } = demo;
  const { code, codeVerifier } = checkedCallback(demo, params);
  demo.view.setStatus(`Swapping the code at ${config.serviceUrl}/session/swap…`);
  const tokens = await demo.session.swap(code, { redirectUri: config.redirectUri, codeVerifier });
  await shown(demo, tokens);
}

/** On load: the session this browser has at the service, if any; no session is no error. */
async function resume(demo: CookieDemo): Promise<void> {
  demo.view.setStatus(`Asking ${demo.config.serviceUrl}/session/token for this browser's session…`);
  let tokens: TokenSet;
  try {
    tokens = await demo.session.getTokens();
  } catch (error) {
    if (error instanceof LoginRequiredError && error.code === 'not_logged_in') {
      demo.view.showLoggedOut();
      return;
    }
    ended(demo, error);
  }
  await shown(demo, tokens);
}

async function refresh(demo: CookieDemo): Promise<void> {
  demo.view.setStatus(`Asking ${demo.config.serviceUrl}/session/token…`);
  const tokens = await demo.session.refresh().catch((error: unknown) => ended(demo, error));
  await shown(demo, tokens);
  demo.view.showRefreshed(Date.now());
}

/** Sign-out at `/session/logout`: revoked there and the cookie cleared; what came of it is said. */
async function signOut(demo: CookieDemo): Promise<void> {
  demo.view.setStatus(`Signing out at ${demo.config.serviceUrl}/session/logout…`);
  const result = await demo.session.logout();
  demo.view.showLoggedOut();
  if (result.outcome === 'failed') throw result.error;
  if (result.outcome === 'not_logged_in' || result.outcome === 'no_refresh_token') {
    demo.view.showSignedOut('nothing_to_revoke');
    return;
  }
  demo.view.showSignedOut(result.outcome);
}

/** One call through the service's Web API proxy; a session that ended there ends it here too. */
async function callProxy(demo: CookieDemo, proxy: ProxyView, path: string): Promise<void> {
  proxy.setBusy(true);
  proxy.showPending(path);
  try {
    proxy.showAnswer(path, await proxyCall(demo.session, path));
  } catch (error) {
    proxy.clear();
    ended(demo, error);
  } finally {
    proxy.setBusy(false);
  }
}

export function startCookieMode(demo: CookieDemo): void {
  const { proxy } = demo;
  proxy?.onCall((path) => void run(demo, () => callProxy(demo, proxy, path)));
  demo.view.onLogin(() => void run(demo, () => login(demo)));
  demo.view.onRefresh(() => void run(demo, () => refresh(demo)));
  demo.view.onLogout(() => void run(demo, () => signOut(demo)));

  const params = new URLSearchParams(demo.location.search);
  if (params.has('code') || params.has('error')) {
    void run(demo, () => handleCallback(demo, params));
    return;
  }
  void run(demo, () => resume(demo));
}
