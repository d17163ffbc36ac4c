/**
 * The demo in cookie mode (its default), in real Chromium, mounted with the sandbox on the service's
 * socket as `serve --sandbox` mounts it: after a login the refresh token (the service's `sts2.` and
 * Spotify's own inside it, opened here with the test's secret) is nowhere the page can reach; the
 * cookie carries the BCP's attributes; a cross-site page in the same browser gets nothing; a reload
 * costs no Spotify call; the login's end, a revocation and the logout end the session.
 * test/session-browser.test.ts covers the endpoints themselves from a bare page.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDemoScript } from '../src/cli/demo-script.js';
import { REFRESH_TOKEN_HELD } from '../src/demo/browser/view.js';
import { createDemoApp, DEMO_PATH } from '../src/demo/index.js';
import { createSandbox, type Sandbox } from '../src/sandbox/index.js';
import { createApp } from '../src/server/app.js';
import { loadConfig } from '../src/server/config/index.js';
import { createMemoryLoginStore } from '../src/server/logins/store.js';
import { createSealer } from '../src/server/sealing/index.js';
import { createCookieSealer } from '../src/server/session/cookie.js';
import { launchBrowser } from './helpers/browser.js';
import { type Listening, listen } from './helpers/listen.js';
import { CLIENT_ID, CLIENT_SECRET, SECRET_A, SECRET_B } from './helpers/stack.js';
import { testClock } from './helpers/tokens.js';

interface Answer {
  access_token: string;
  refresh_token_expires_in: number;
}

const clock = testClock();
const binding = { app: 'default', clientId: CLIENT_ID };
let browser: Browser;
let server: Listening;
let crossSite: Listening;
let sandbox: Sandbox;
let demoUrl: string;
/** Per session request that reached the service: whether it carried a cookie, and Sec-Fetch-Site. */
const arrived: { path: string; cookie: boolean; site: string | null }[] = [];
const contexts: BrowserContext[] = [];
/** Per Web API call that reached the sandbox (the proxy's, over the socket): its Authorization, and whether it had a cookie. */
const webApiCalls: { path: string; authorization: string | null; cookie: boolean }[] = [];

let app: ReturnType<typeof createApp> | undefined;

/**
 * What `serve --sandbox` serves on the socket, sealing with `secret`; called again, that command
 * restarted with a new secret for the run (the sandbox, its users and tokens, kept here).
 */
function startService(secret: string): void {
  const redirectUri = `${demoUrl}/callback`;
  const config = loadConfig({
    SPOTIFY_CLIENT_ID: CLIENT_ID,
    SPOTIFY_CLIENT_SECRET: CLIENT_SECRET,
    SPOTIFY_REDIRECT_URI: redirectUri,
    SPOTIFY_ACCOUNTS_URL: `${server.url}/sandbox`,
    SPOTIFY_API_URL: `${server.url}/sandbox`,
    API_PROXY_PATHS: 'GET /v1/me',
    ENCRYPTION_SECRET: secret,
    LOG_LEVEL: 'silent',
  });
  const demo = (apiProxy: boolean) =>
    createDemoApp({
      serviceUrl: server.url,
      accountsUrl: `${server.url}/sandbox`,
      clientId: CLIENT_ID,
      redirectUri,
      script: readDemoScript(),
      apiProxy,
    });
  app = createApp(config, {
    loginStore: createMemoryLoginStore(),
    now: clock.now,
    mounts: [
      { path: '/sandbox', app: sandbox.app, description: 'Sandbox' },
      { path: DEMO_PATH, app: demo(false), description: 'Demo' },
      { path: '/demo-proxy', app: demo(true), description: 'Demo with the proxy tab' },
    ],
  });
}

beforeAll(async () => {
  server = await listen((request, env) => {
    const { pathname } = new URL(request.url);
    if (pathname.startsWith('/sandbox/v1/')) {
      webApiCalls.push({
        path: pathname,
        authorization: request.headers.get('authorization'),
        cookie: request.headers.has('cookie'),
      });
    }
    if (pathname.startsWith('/session/')) {
      arrived.push({
        path: pathname,
        cookie: request.headers.has('cookie'),
        site: request.headers.get('sec-fetch-site'),
      });
    }
    return app ? app.fetch(request, env) : new Response('starting', { status: 503 });
  });
  demoUrl = `${server.url}${DEMO_PATH}`;
  sandbox = createSandbox({
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [`${demoUrl}/callback`] }],
  });
  startService(SECRET_A);
  // Another site: `localhost` is not `127.0.0.1` (a site is scheme and registrable host; ports do not count).
  crossSite = await listen(
    () =>
      new Response('<!doctype html><title>elsewhere</title>', { headers: { 'Content-Type': 'text/html' } }),
  );
  browser = await launchBrowser();
});

afterAll(async () => {
  await Promise.all(contexts.map((context) => context.close()));
  await browser?.close();
  await Promise.all([server?.close(), crossSite?.close()]);
});

const isPath = (path: string) => (url: string) => new URL(url).pathname === path;
const mask = (token: string) => `${token.slice(0, 6)}…${token.slice(-4)}`;

/** A fresh browser profile whose page records every response body it received. */
async function openPage(): Promise<{ page: Page; context: BrowserContext; bodies: Promise<string>[] }> {
  const context = await browser.newContext();
  contexts.push(context);
  context.setDefaultTimeout(5_000);
  const page = await context.newPage();
  const bodies: Promise<string>[] = [];
  // A redirect has no body to read.
  page.on('response', (response) => bodies.push(response.text().catch(() => '')));
  return { page, context, bodies };
}

/** Logs in through the demo; resolves with /session/swap's answer once the page shows it. */
async function logIn(page: Page): Promise<Answer> {
  await page.goto(demoUrl);
  await page.locator('#login').click();
  await page.waitForURL((url) => url.pathname === '/sandbox/authorize');
  const swapped = page.waitForResponse((response) => isPath('/session/swap')(response.url()));
  await page.locator('#agree').click();
  const answer = (await (await swapped).json()) as Answer;
  await expect.poll(() => page.locator('#access-token').textContent()).toBe(mask(answer.access_token));
  return answer;
}

/** The cookie's contents, opened with the test's secret: the service's sealed refresh token, and Spotify's in it. */
async function refreshTokens(
  context: BrowserContext,
): Promise<{ cookie: string; sealed: string; spotify: string }> {
  const [cookie] = await context.cookies(server.url);
  const contents = await createCookieSealer([SECRET_A], binding).open(cookie?.value ?? '');
  const sealed = contents?.refreshToken ?? '';
  const { grant } = await createSealer([SECRET_A], binding).unseal(sealed);
  return { cookie: cookie?.value ?? '', sealed, spotify: grant.refreshToken };
}

/** Everything a script on the page can read: cookies, both storages, every IndexedDB database. */
/** What the page says when the service refused the session's refresh token (revoked or expired). */
const SESSION_REVOKED =
  /^session_ended: The refresh token was rejected \(.+\); it expired or was revoked\. The service ended this browser's session and cleared its cookie\. Log in again\.$/;

/** Revokes a login as another client would, through POST /revoke with its sealed refresh token. */
async function revokeElsewhere(sealed: string): Promise<void> {
  const revoked = await fetch(`${server.url}/revoke`, {
    method: 'POST',
    body: new URLSearchParams({ token: sealed }),
  });
  expect(revoked.status).toBe(200);
}

/** The page says the session ended with `message`, offers the login again, and holds no cookie. */
async function expectSessionEnded(page: Page, context: BrowserContext, message: RegExp): Promise<void> {
  await expect.poll(() => page.locator('#error').textContent()).toMatch(message);
  expect(await page.locator('#login').isVisible()).toBe(true);
  expect(await context.cookies(server.url)).toEqual([]);
}

function pageReach(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const dump = (storage: Storage) => Object.entries(storage);
    const databases = [];
    for (const { name } of await indexedDB.databases()) {
      if (!name) continue;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      for (const store of db.objectStoreNames) {
        const all = db.transaction(store).objectStore(store).getAll();
        databases.push(
          await new Promise((resolve) => (all.onsuccess = () => resolve([name, store, all.result]))),
        );
      }
    }
    return JSON.stringify({
      cookie: document.cookie,
      local: dump(localStorage),
      session: dump(sessionStorage),
      databases,
    });
  });
}

describe('the demo in cookie mode', () => {
  it('logs in, and the refresh token is in no cookie, storage, database or answer the page can read', async () => {
    const { page, context, bodies } = await openPage();
    const answer = await logIn(page);
    await page.waitForLoadState('networkidle');
    const { cookie, sealed, spotify } = await refreshTokens(context);
    expect(sealed).toMatch(/^sts2\./);
    expect(spotify.length).toBeGreaterThan(10);

    const reach = await pageReach(page);
    expect(JSON.parse(reach)).toMatchObject({ cookie: '', local: [], databases: [] });
    const received = await Promise.all(bodies);
    expect(received.some((body) => body.includes(answer.access_token))).toBe(true);
    for (const secret of [cookie, sealed, spotify]) {
      expect(reach).not.toContain(secret);
      for (const body of received) expect(body).not.toContain(secret);
      expect(await page.content()).not.toContain(secret);
    }
    expect(await page.locator('#refresh-token').textContent()).toBe(REFRESH_TOKEN_HELD);
    expect(await page.locator('#mode').textContent()).toMatch(
      /^Cookie mode: the refresh token never reaches this page\./,
    );
    const signInBy = Date.parse(
      `${(await page.locator('#sign-in-by').textContent())?.replace(' UTC', 'Z').replace(' ', 'T')}`,
    );
    expect(Math.abs(signInBy - (Date.now() + answer.refresh_token_expires_in * 1000))).toBeLessThan(120_000);
  });

  it("sets the cookie __Host-token-swap, Secure, HttpOnly, SameSite=Strict, Path=/, host-only, until the login's end (DevTools protocol)", async () => {
    const { page, context } = await openPage();
    const answer = await logIn(page);
    const cdp = await context.newCDPSession(page);
    const { cookies } = (await cdp.send('Network.getCookies', { urls: [server.url] })) as {
      cookies: {
        name: string;
        domain: string;
        path: string;
        secure: boolean;
        httpOnly: boolean;
        sameSite?: string;
        session: boolean;
        expires: number;
      }[];
    };
    expect(cookies).toHaveLength(1);
    const [cookie] = cookies;
    // A Domain attribute would show as `.127.0.0.1`: without one, the cookie is host-only.
    expect(cookie).toMatchObject({
      name: '__Host-token-swap',
      domain: '127.0.0.1',
      path: '/',
      secure: true,
      httpOnly: true,
      sameSite: 'Strict',
      session: false,
    });
    expect(
      Math.abs((cookie?.expires ?? 0) - (Date.now() / 1000 + answer.refresh_token_expires_in)),
    ).toBeLessThan(30);
  });

  it('keeps the session across a reload without a Spotify call while the token is fresh, and refreshes it near expiry', async () => {
    const { page } = await openPage();
    const answer = await logIn(page);
    const spotifyCalls = sandbox.stats().tokenRequests;
    const fromCookie = page.waitForResponse((response) => isPath('/session/token')(response.url()));
    await page.reload();
    expect((await fromCookie).status()).toBe(200);
    await expect.poll(() => page.locator('#access-token').textContent()).toBe(mask(answer.access_token));
    expect(sandbox.stats().tokenRequests).toBe(spotifyCalls);
    // The button asks the service too, which answers its cached token while it is fresh.
    const asked = page.waitForResponse((response) => isPath('/session/token')(response.url()));
    await page.locator('#refresh').click();
    expect((await asked).status()).toBe(200);
    await expect.poll(() => page.locator('#refreshed').textContent()).toMatch(/^Refreshed at /);
    expect(sandbox.stats().tokenRequests).toBe(spotifyCalls);

    clock.advance((3600 - 30) * 1000);
    const refreshed = page.waitForResponse((response) => isPath('/session/token')(response.url()));
    await page.reload();
    const renewed = (await (await refreshed).json()) as Answer;
    expect(renewed.access_token).not.toBe(answer.access_token);
    await expect.poll(() => page.locator('#access-token').textContent()).toBe(mask(renewed.access_token));
    expect(sandbox.stats().tokenRequests).toBe(spotifyCalls + 1);
    expect(await page.locator('#error').isHidden()).toBe(true);
  });

  it("ends at the login's end with a clear message, and the cookie cleared", async () => {
    const { page, context } = await openPage();
    const answer = await logIn(page);
    clock.advance((answer.refresh_token_expires_in + 1) * 1000);
    await page.reload();
    await expectSessionEnded(
      page,
      context,
      /^session_ended: The login expired on \d{4}-\d\d-\d\d.*\. The service ended this browser's session and cleared its cookie\. Log in again\.$/,
    );
  });

  it('ends when the login is revoked elsewhere, with a clear message, though its cached token is fresh', async () => {
    const { page, context } = await openPage();
    await logIn(page);
    const { sealed } = await refreshTokens(context);
    await revokeElsewhere(sealed);
    await page.reload();
    await expectSessionEnded(page, context, SESSION_REVOKED);
  });

  it('logs out through /session/logout: the cookie cleared, the login revoked, its refresh token refused', async () => {
    const { page, context } = await openPage();
    await logIn(page);
    const { sealed } = await refreshTokens(context);
    const out = page.waitForResponse((response) => isPath('/session/logout')(response.url()));
    await page.locator('#logout').click();
    expect((await out).status()).toBe(200);
    await expect
      .poll(() => page.locator('#signed-out').textContent())
      .toBe('Signed out. The swap service revoked the login: its refresh token works no more.');
    expect(await context.cookies(server.url)).toEqual([]);
    const after = await fetch(`${server.url}/refresh`, {
      method: 'POST',
      body: new URLSearchParams({ refresh_token: sealed }),
    });
    expect([after.status, ((await after.json()) as { error: string }).error]).toEqual([400, 'invalid_grant']);
    await page.reload();
    await expect.poll(() => page.locator('#login').isVisible()).toBe(true);
    expect(await page.locator('#error').isHidden()).toBe(true);
  });

  it('gives a cross-site page in the same browser nothing: its credentialed fetch fails, its form POST carries no cookie and is refused', async () => {
    const { page, context } = await openPage();
    await logIn(page);
    const elsewhere = await context.newPage();
    await elsewhere.goto(crossSite.url.replace('127.0.0.1', 'localhost'));
    const fetched = await elsewhere.evaluate(async (url) => {
      try {
        const response = await fetch(url, {
          method: 'POST',
          credentials: 'include',
          headers: { 'X-CSRF': '1' },
        });
        return `answered ${response.status}`;
      } catch (error) {
        return (error as Error).name;
      }
    }, `${server.url}/session/token`);
    expect(fetched).toBe('TypeError');

    arrived.length = 0;
    await elsewhere.setContent(
      `<form method="post" action="${server.url}/session/token"><input name="x" value="1"></form>`,
    );
    const [navigated] = await Promise.all([
      elsewhere.waitForNavigation(),
      elsewhere.evaluate(() => document.querySelector('form')?.submit()),
    ]);
    expect(navigated?.status()).toBe(403);
    expect(arrived).toEqual([{ path: '/session/token', cookie: false, site: 'cross-site' }]);
    expect(await elsewhere.textContent('body')).not.toContain('access_token');
  });
});

describe('the demo in cookie mode, after the service restarted with a new secret', () => {
  it('shows the login button again: the old cookie does not open, and the service cleared it', async () => {
    const { page, context } = await openPage();
    await logIn(page);
    startService(SECRET_B);
    try {
      const refused = page.waitForResponse((response) => isPath('/session/token')(response.url()));
      await page.reload();
      expect((await refused).status()).toBe(401);
      await expect.poll(() => page.locator('#login').isVisible()).toBe(true);
      expect(await page.locator('#error').isHidden()).toBe(true);
      expect(await context.cookies(server.url)).toEqual([]);
      // And the next login works against the restarted service.
      await logIn(page);
    } finally {
      startService(SECRET_A);
    }
  });
});

describe('the demo page', () => {
  it('offers tab mode as the weaker one with ?mode=tab, and keeps it across a reload', async () => {
    const { page } = await openPage();
    await page.goto(`${demoUrl}?mode=tab`);
    await expect
      .poll(() => page.locator('#mode').textContent())
      .toMatch(/^Tokens in this tab \(the weaker mode\)/);
    await page.goto(demoUrl);
    await expect.poll(() => page.locator('#mode').textContent()).toMatch(/^Tokens in this tab/);
    expect(await page.locator('p.note[data-mode="tab"]').isVisible()).toBe(true);
    expect(await page.locator('p.note[data-mode="cookie"]').isHidden()).toBe(true);
  });

  it('shows the Web API proxy tab only where the service proxies the Web API, and only in cookie mode', async () => {
    const { page } = await openPage();
    await page.goto(demoUrl);
    await expect.poll(() => page.locator('#mode').isVisible()).toBe(true);
    expect(await page.locator('#tabs').getAttribute('hidden')).not.toBeNull();
    await page.goto(`${server.url}/demo-proxy`);
    await expect.poll(() => page.locator('#tabs').getAttribute('hidden')).toBeNull();
    // Tab mode has no session cookie for the proxy to answer.
    await page.goto(`${server.url}/demo-proxy?mode=tab`);
    await expect.poll(() => page.locator('#mode').textContent()).toMatch(/^Tokens in this tab/);
    expect(await page.locator('#tabs').getAttribute('hidden')).not.toBeNull();
  });
});

describe("the demo's Web API proxy tab", () => {
  /** Logs in through the demo, then opens the page that has the proxy tab, on it. */
  async function proxyTab(): Promise<{
    page: Page;
    context: BrowserContext;
    bodies: Promise<string>[];
    answer: Answer;
  }> {
    const opened = await openPage();
    const answer = await logIn(opened.page);
    await opened.page.goto(`${server.url}/demo-proxy`);
    await opened.page.locator('#tab-proxy').click();
    await expect.poll(() => opened.page.locator('#proxy-panel').isVisible()).toBe(true);
    return { ...opened, answer };
  }

  it("calls /v1/me through the proxy and shows the profile: the sandbox got the session's bearer and no cookie, the page no refresh token", async () => {
    const { page, context, bodies, answer } = await proxyTab();
    webApiCalls.length = 0;
    const proxied = page.waitForResponse((response) => isPath('/spotify/v1/me')(response.url()));
    await page.locator('#proxy-me').click();
    const response = await proxied;
    expect(response.status()).toBe(200);
    const sent = await response.request().allHeaders();
    expect(sent).not.toHaveProperty('authorization');
    expect(sent['x-csrf']).toBe('1');
    const profile = (await response.json()) as { id: string; display_name: string };
    await expect.poll(() => page.locator('#proxy-result .name').textContent()).toBe(profile.display_name);
    expect(await page.locator('#proxy-result').textContent()).toContain(`Spotify user id ${profile.id}`);
    expect(await page.locator('#proxy-answered').textContent()).toMatch(
      /^HTTP 200 from GET \/v1\/me, through the service/,
    );

    // The proxy's call to the Web API: the session's (cached) access token, no cookie.
    expect(webApiCalls).toEqual([
      { path: '/sandbox/v1/me', authorization: `Bearer ${answer.access_token}`, cookie: false },
    ]);
    const last = sandbox.stats().lastWebApiRequest;
    // The sandbox is mounted under /sandbox here, as serve --sandbox mounts it.
    expect(last?.path).toBe('/sandbox/v1/me');
    expect(last?.headerNames).toContain('authorization');
    expect(last?.headerNames).not.toContain('cookie');
    expect(last?.headerNames).not.toContain('x-csrf');

    await page.waitForLoadState('networkidle');
    const { cookie, sealed, spotify } = await refreshTokens(context);
    const received = await Promise.all(bodies);
    expect(received.some((body) => body.includes(profile.id))).toBe(true);
    for (const secret of [cookie, sealed, spotify]) {
      for (const body of received) expect(body).not.toContain(secret);
    }
    expect(await page.locator('#error').isHidden()).toBe(true);
  });

  it('shows a path off the allowlist as a readable 403 path_not_allowed, without calling Spotify', async () => {
    const { page } = await proxyTab();
    webApiCalls.length = 0;
    const refused = page.waitForResponse((response) => isPath('/spotify/v1/me/following')(response.url()));
    await page.locator('#proxy-off-list').click();
    expect((await refused).status()).toBe(403);
    await expect
      .poll(() => page.locator('#error').textContent())
      .toBe(
        "path_not_allowed: This method and path are not on the app's Web API proxy allowlist (API_PROXY_PATHS)",
      );
    expect(webApiCalls).toEqual([]);
    expect(await page.locator('#proxy-result').isHidden()).toBe(true);
    // Still signed in: a refusal of one path does not end the session.
    expect(await page.locator('#logged-in').isVisible()).toBe(true);
  });

  it('ends the session with a clear message when the login was revoked elsewhere (400 invalid_grant)', async () => {
    const { page, context } = await proxyTab();
    const { sealed } = await refreshTokens(context);
    await revokeElsewhere(sealed);
    const refused = page.waitForResponse((response) => isPath('/spotify/v1/me')(response.url()));
    await page.locator('#proxy-me').click();
    expect((await refused).status()).toBe(400);
    await expectSessionEnded(page, context, SESSION_REVOKED);
  });

  it('says so when the browser has no session any more (401 login_required)', async () => {
    const { page, context } = await proxyTab();
    await context.clearCookies();
    const refused = page.waitForResponse((response) => isPath('/spotify/v1/me')(response.url()));
    await page.locator('#proxy-me').click();
    expect((await refused).status()).toBe(401);
    await expect
      .poll(() => page.locator('#error').textContent())
      .toBe('not_logged_in: Not signed in. Log in again.');
    expect(await page.locator('#login').isVisible()).toBe(true);
  });
});
