/**
 * The demo page's script (served as /app.js), bundled with the client kit by scripts/build-demo.mjs.
 * It is what any browser app would write to log in through a swap service: in cookie mode (the
 * default) with the kit's cookie session, in tab mode (`?mode=tab`, the weaker one) with the swap
 * client and the tokens in sessionStorage.
 */
import { createCookieSession, createSwapClient } from '../../client/index.js';
import { readConfig } from './config.js';
import { startCookieMode } from './cookie-flow.js';
import { start } from './flow.js';
import { createProxyView } from './proxy-view.js';
import { chooseMode, createDemoStorage } from './storage.js';
import { createView } from './view.js';

// No answer carrying a token is cached.
const noStore: typeof fetch = (input, init) => fetch(input, { ...init, cache: 'no-store' });
// Tab mode's calls and the profile need no cookie, so none goes along.
const demoFetch: typeof fetch = (input, init) => noStore(input, { ...init, credentials: 'omit' });

const config = readConfig(document);
const mode = chooseMode(location.search, sessionStorage, config.mode);
const view = createView(document);
// The proxy answers a session's cookie: tab mode has none, so it has no proxy tab.
const apiProxy = config.apiProxy && mode === 'cookie';
view.setMode(mode, apiProxy);
const base = {
  config,
  view,
  storage: createDemoStorage(sessionStorage),
  fetch: demoFetch,
  location,
  history,
  isSecureContext: window.isSecureContext,
};
if (mode === 'cookie') {
  // The kit sends the cookie and X-CSRF itself: the service is this page's own origin (src/demo/app.ts).
  startCookieMode({
    ...base,
    session: createCookieSession({ swapUrl: config.serviceUrl, fetch: noStore }),
    ...(apiProxy ? { proxy: createProxyView(document) } : {}),
  });
} else {
  start({ ...base, client: createSwapClient({ swapUrl: config.serviceUrl, fetch: demoFetch }) });
}
