/**
 * The demo page's script (served as /app.js), bundled with the client kit by scripts/build-demo.mjs.
 * It is what any browser app would write to log in through a swap service.
 */
import { createSwapClient } from '../../client/index.js';
import { readConfig } from './config.js';
import { start } from './flow.js';
import { createDemoStorage } from './storage.js';
import { createView } from './view.js';

// No cookies go along (the calls need none), and no answer carrying a token is cached.
const demoFetch: typeof fetch = (input, init) =>
  fetch(input, { ...init, credentials: 'omit', cache: 'no-store' });

const config = readConfig(document);
start({
  config,
  view: createView(document),
  storage: createDemoStorage(sessionStorage),
  client: createSwapClient({ swapUrl: config.serviceUrl, fetch: demoFetch }),
  fetch: demoFetch,
  location,
  history,
  isSecureContext: window.isSecureContext,
});
