/**
 * The demo as a mountable Hono app: one HTML page (served at `/` and `/callback`) and its script. It
 * does what any browser app would: Authorization Code + PKCE at Accounts, then the swap service.
 */
import { Hono } from 'hono';
import { DEMO_MODES, type DemoMode } from './config.js';
import { contentSecurityPolicy, type PageInput, renderPage } from './page.js';

export const DEMO_PATH = '/demo';

const DEFAULT_DEMO_SCOPES: readonly string[] = Object.freeze(['user-read-email', 'user-read-private']);

export interface DemoOptions {
  /**
   * Base URL of the swap service, e.g. `http://127.0.0.1:3000` (POST /session/*, or /swap and
   * /refresh in `tab` mode). In cookie mode it must be on the page's site (docs/clients/browser.md):
   * where `serve --sandbox` mounts the demo, it is the page's own origin.
   */
  serviceUrl: string;
  /** Base URL of the (sandbox) Accounts: `/authorize`, and `/v1/me` for the profile. */
  accountsUrl: string;
  clientId: string;
  /** Where /authorize sends the browser back, e.g. `${serviceUrl}/demo/callback`. */
  redirectUri: string;
  /** Default `user-read-email user-read-private`. */
  scopes?: string[];
  /**
   * The page's script, served as `app.js`: the bundle of `src/demo/browser` that the build writes to
   * `dist/demo/browser.js`. Passed in, as reading a file is not a Web API; on Node, `readDemoScript()`
   * in `src/cli/demo-script.ts` reads it.
   */
  script: string;
  /**
   * Where a page opened without `?mode=` keeps the login: `cookie` (default), or `tab`, the weaker
   * sessionStorage mode (src/demo/config.ts).
   */
  mode?: DemoMode;
  /** The service proxies the Web API for this app: the page shows its proxy tab. Default false. */
  apiProxy?: boolean;
}

function baseUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`demo: ${name} is not a URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`demo: ${name} must be an http(s) URL: ${value}`);
  }
  return url.href.replace(/\/+$/, '');
}

/** `/demo/callback` → `/demo`: where the page lives, so its script and clean URL follow the mount. */
function mountPath(requestPath: string): string {
  const base = requestPath.replace(/\/callback$/, '').replace(/\/+$/, '');
  // Anything odd (it is the request's own path) falls back to the documented mount point.
  return /^(\/[A-Za-z0-9._~-]+)*$/.test(base) ? base : DEMO_PATH;
}

export function createDemoApp(options: DemoOptions): Hono {
  if (!options.clientId) {
    throw new TypeError('demo: clientId is required');
  }
  if (typeof options.script !== 'string' || options.script === '') {
    throw new TypeError('demo: script (the bundled browser script) is required');
  }
  const { script } = options;
  const serviceUrl = baseUrl('serviceUrl', options.serviceUrl);
  const accountsUrl = baseUrl('accountsUrl', options.accountsUrl);
  baseUrl('redirectUri', options.redirectUri);
  const scopes = [...(options.scopes ?? DEFAULT_DEMO_SCOPES)];
  const mode = options.mode ?? 'cookie';
  if (!DEMO_MODES.includes(mode)) throw new TypeError(`demo: mode must be cookie or tab: ${String(mode)}`);
  const apiProxy = options.apiProxy === true;
  const csp = contentSecurityPolicy([serviceUrl, accountsUrl]);

  const app = new Hono();
  const page = (requestPath: string): Response => {
    const input: PageInput = {
      basePath: mountPath(requestPath),
      serviceUrl,
      accountsUrl,
      clientId: options.clientId,
      redirectUri: options.redirectUri,
      scopes,
      mode,
      apiProxy,
    };
    return new Response(renderPage(input), {
      headers: {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': csp,
        'Cache-Control': 'no-store',
        // The callback URL carries a code: it must not leak to the profile request or anywhere else.
        'Referrer-Policy': 'no-referrer',
        'X-Content-Type-Options': 'nosniff',
      },
    });
  };
  // The page keeps the login's state in sessionStorage, which is per origin, and Accounts sends the
  // browser back to the redirect URI's origin (127.0.0.1): a login begun on localhost would come back
  // to an origin that never saw it (state_mismatch). So the page is only ever used on its own origin.
  const onOwnOrigin = (url: string): Response | undefined => {
    const requested = new URL(url);
    const own = new URL(serviceUrl);
    if (requested.hostname !== 'localhost' || requested.origin === own.origin) return undefined;
    return new Response(null, {
      status: 302,
      headers: {
        Location: `${own.origin}${requested.pathname}${requested.search}`,
        'Cache-Control': 'no-store',
      },
    });
  };
  app.get('/', (c) => onOwnOrigin(c.req.url) ?? page(c.req.path));
  app.get('/callback', (c) => onOwnOrigin(c.req.url) ?? page(c.req.path));
  app.get(
    '/app.js',
    () =>
      new Response(script, {
        headers: {
          'Content-Type': 'text/javascript; charset=utf-8',
          'Cache-Control': 'no-cache',
          'X-Content-Type-Options': 'nosniff',
        },
      }),
  );
  return app;
}
