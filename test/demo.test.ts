/**
 * The browser demo, driven in a real headless Chromium against the service with the sandbox and the
 * demo mounted on one loopback socket, as `serve --sandbox` would serve them. In tab mode (the
 * tokens in sessionStorage, the weaker one); test/demo-cookie.test.ts drives cookie mode, the default.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDemoScript } from '../src/cli/demo-script.js';
import { createDemoApp, DEMO_PATH } from '../src/demo/index.js';
import { createSandbox, type Sandbox } from '../src/sandbox/index.js';
import { createApp } from '../src/server/app.js';
import { loadConfig } from '../src/server/config/index.js';
import { createMemoryLoginStore } from '../src/server/logins/store.js';
import { launchBrowser } from './helpers/browser.js';
import { type Listening, listen } from './helpers/listen.js';
import { CLIENT_ID, CLIENT_SECRET, SECRET_A, SECRET_B } from './helpers/stack.js';

interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  refresh_token?: string;
  error?: string;
  error_description?: string;
}

let browser: Browser;
let server: Listening;
let sandbox: Sandbox;
let demoUrl: string;
let demoScript: string;
const contexts: BrowserContext[] = [];

let app: ReturnType<typeof createApp> | undefined;

/**
 * Builds what `serve --sandbox` serves on the socket: a fresh sandbox (its tokens in memory), the
 * service sealing with `secret`, and the demo. Called again, it is that command restarted.
 * `keepsRevocations: false` runs it as a runtime without a login store does (`/revoke` answers 501).
 */
function startService(secret: string, options: { keepsRevocations?: boolean } = {}): void {
  const redirectUri = `${demoUrl}/callback`;
  sandbox = createSandbox({
    clients: [
      { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [redirectUri], name: 'Demo' },
    ],
  });
  const config = loadConfig({
    SPOTIFY_CLIENT_ID: CLIENT_ID,
    SPOTIFY_CLIENT_SECRET: CLIENT_SECRET,
    SPOTIFY_REDIRECT_URI: redirectUri,
    SPOTIFY_ACCOUNTS_URL: `${server.url}/sandbox`,
    ENCRYPTION_SECRET: secret,
    LOG_LEVEL: 'silent',
    UPSTREAM_TIMEOUT_MS: '2000',
  });
  const demo = createDemoApp({
    serviceUrl: server.url,
    accountsUrl: `${server.url}/sandbox`,
    clientId: CLIENT_ID,
    redirectUri,
    script: demoScript,
    mode: 'tab',
  });
  app = createApp(config, {
    // As `serve --sandbox` keeps them (in memory, so a restart forgets them): sign-out revokes.
    loginStore: options.keepsRevocations === false ? undefined : createMemoryLoginStore(),
    mounts: [
      { path: '/sandbox', app: sandbox.app, description: 'Sandbox' },
      { path: DEMO_PATH, app: demo, description: 'Demo' },
    ],
  });
}

beforeAll(async () => {
  // The app needs its own URL (the sandbox and the redirect URI live under it), known only after listen.
  server = await listen((request, env) =>
    app ? app.fetch(request, env) : new Response('starting', { status: 503 }),
  );
  browser = await launchBrowser();
  demoUrl = `${server.url}${DEMO_PATH}`;
  // The bundle `npm run build` wrote (pretest builds), as `serve --sandbox` serves it.
  demoScript = readDemoScript();
  startService(SECRET_A);
});

afterAll(async () => {
  await Promise.all(contexts.map((context) => context.close()));
  await browser?.close();
  await server?.close();
});

/** A fresh tab (own sessionStorage) that records script errors and CSP violations. */
async function openPage(): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext();
  contexts.push(context);
  context.setDefaultTimeout(5_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // A 4xx/5xx fetch logs "Failed to load resource"; the tests provoke some on purpose.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(message.text());
    }
  });
  return { page, problems };
}

const isPath = (path: string) => (url: URL | string) => new URL(String(url)).pathname === path;

function mask(token: string): string {
  return `${token.slice(0, 6)}…${token.slice(-4)}`;
}

async function expectNoFullToken(page: Page, tokens: readonly string[]): Promise<void> {
  const html = await page.content();
  const text = (await page.locator('body').textContent()) ?? '';
  for (const token of tokens) {
    expect(html).not.toContain(token);
    expect(text).not.toContain(token);
  }
}

async function startLogin(page: Page): Promise<URL> {
  await page.locator('#login').click();
  await page.waitForURL(isPath('/sandbox/authorize'));
  return new URL(page.url());
}

/** Logs in through the consent page; resolves with the swap service's answer once the page shows it. */
async function logIn(page: Page): Promise<TokenBody> {
  await startLogin(page);
  const swapped = page.waitForResponse((response) => isPath('/swap')(response.url()));
  await page.locator('#agree').click();
  const tokens = (await (await swapped).json()) as TokenBody;
  await expect.poll(() => page.locator('#access-token').textContent()).toBe(mask(tokens.access_token));
  return tokens;
}

describe('demo page over HTTP', () => {
  it('serves the page with a strict CSP and no inline script, and the script as JavaScript', async () => {
    for (const path of ['', '/callback']) {
      const response = await fetch(`${demoUrl}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toBe(
        `default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self' ${server.url}; img-src 'self' data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'`,
      );
      const html = await response.text();
      const scripts = html.match(/<script\b[^>]*>/g) ?? [];
      expect(scripts).toEqual([
        '<script type="application/json" id="demo-config">',
        `<script src="${DEMO_PATH}/app.js" defer>`,
      ]);
    }
    const script = await fetch(`${demoUrl}/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toBe(demoScript);
  });
});

describe('demo in a real browser', () => {
  it('logs in through the consent page, shows the session with masked tokens, refreshes and logs out', async () => {
    const { page, problems } = await openPage();
    // A controllable clock in the page, so "the countdown restarts" is visible without waiting minutes.
    await page.clock.install();
    await page.goto(demoUrl);

    const authorize = await startLogin(page);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${demoUrl}/callback`);

    const swapped = page.waitForResponse((response) => isPath('/swap')(response.url()));
    const profiled = page.waitForResponse((response) => isPath('/sandbox/v1/me')(response.url()));
    await page.locator('#agree').click();
    const swapResponse = await swapped;
    expect(swapResponse.status()).toBe(200);
    const sent = new URLSearchParams(swapResponse.request().postData() ?? '');
    expect([...sent.keys()].sort()).toEqual(['code', 'code_verifier', 'redirect_uri']);
    const tokens = (await swapResponse.json()) as TokenBody;
    const refreshToken = tokens.refresh_token ?? '';
    expect(refreshToken).toMatch(/^sts2\./);
    const profile = (await (await profiled).json()) as { id: string; display_name: string };

    // Profile, scopes, masked tokens, a clean address bar.
    await expect.poll(() => page.locator('#profile').textContent()).toContain(profile.display_name);
    expect(await page.locator('#profile').textContent()).toContain(profile.id);
    expect(await page.locator('#scopes .chip').allTextContents()).toEqual([
      'user-read-email',
      'user-read-private',
    ]);
    expect(await page.locator('#access-token').textContent()).toBe(mask(tokens.access_token));
    expect(await page.locator('#refresh-token').textContent()).toBe(mask(refreshToken));
    await expectNoFullToken(page, [tokens.access_token, refreshToken]);
    expect(page.url()).toBe(demoUrl);
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(sandbox.stats().byGrant.authorization_code).toBe(1);

    // The countdown ticks on its own.
    const shown = await page.locator('#expires-in').textContent();
    expect(shown).toMatch(/^(59:5\d|60:00)$/);
    await expect
      .poll(() => page.locator('#expires-in').textContent(), { timeout: 2_500, interval: 100 })
      .not.toBe(shown);
    await page.clock.fastForward('10:00');
    await expect.poll(() => page.locator('#expires-in').textContent()).toMatch(/^(49|50):\d\d$/);

    // A failing refresh shows the service's error and keeps the session.
    // Two faults: the service retries a refresh once on a 503.
    sandbox.faults.push({ kind: 'status', status: 503, count: 2 });
    const failed = page.waitForResponse((response) => isPath('/refresh')(response.url()));
    await page.locator('#refresh').click();
    const failure = (await (await failed).json()) as TokenBody;
    expect(failure.error).toBe('upstream_error');
    await expect
      .poll(() => page.locator('#error').textContent())
      .toBe(`${failure.error}: ${failure.error_description}`);
    expect(await page.locator('#access-token').textContent()).toBe(mask(tokens.access_token));

    // A working refresh: new access token, same refresh token (the sandbox does not rotate), fresh countdown.
    const refreshed = page.waitForResponse((response) => isPath('/refresh')(response.url()));
    await page.locator('#refresh').click();
    const renewed = (await (await refreshed).json()) as TokenBody;
    expect(renewed.access_token).not.toBe(tokens.access_token);
    expect(renewed.refresh_token).toBeUndefined();
    await expect.poll(() => page.locator('#access-token').textContent()).toBe(mask(renewed.access_token));
    expect(await page.locator('#refresh-token').textContent()).toBe(mask(refreshToken));
    expect(await page.locator('#expires-in').textContent()).toMatch(/^(59:5\d|60:00)$/);
    expect(await page.locator('#error').isHidden()).toBe(true);
    // The button did something visible, even where little else changed.
    // Polled: the page says it after the profile call that follows the refresh.
    await expect
      .poll(() => page.locator('#refreshed').textContent())
      .toMatch(/^Refreshed at \d\d:\d\d:\d\d\.$/);
    await expectNoFullToken(page, [renewed.access_token, refreshToken]);
    // Three refresh calls: the failed one and its single retry, then this one.
    expect(sandbox.stats().byGrant.refresh_token).toBe(3);

    // Log out: the login revoked at the service, then forgotten in this tab; the login button back.
    const revoked = page.waitForResponse((response) => isPath('/revoke')(response.url()));
    await page.locator('#logout').click();
    const revokeResponse = await revoked;
    expect(revokeResponse.status()).toBe(200);
    expect([...new URLSearchParams(revokeResponse.request().postData() ?? '')]).toEqual([
      ['token', refreshToken],
      ['token_type_hint', 'refresh_token'],
    ]);
    await expect
      .poll(() => page.locator('#signed-out').textContent())
      .toBe('Signed out. The swap service revoked the login: its refresh token works no more.');
    expect(await page.locator('#login').isVisible()).toBe(true);
    expect(await page.locator('#logged-in').isHidden()).toBe(true);
    expect(await page.locator('#access-token').textContent()).toBe('');
    expect(await page.locator('#refreshed').isHidden()).toBe(true);
    expect(await page.evaluate('Object.keys(sessionStorage)')).toEqual([]);
    // The service agrees: the tab's refresh token refreshes no more.
    const afterSignOut = await fetch(`${server.url}/refresh`, {
      method: 'POST',
      body: new URLSearchParams({ refresh_token: refreshToken }),
    });
    expect([afterSignOut.status, ((await afterSignOut.json()) as TokenBody).error]).toEqual([
      400,
      'invalid_grant',
    ]);

    // Log in again, and cancel on the consent page.
    await startLogin(page);
    await page.locator('#cancel').click();
    await expect.poll(() => page.locator('#error').textContent()).toMatch(/^access_denied: Login cancelled/);
    expect(page.url()).toBe(demoUrl);
    expect(await page.locator('#login').isVisible()).toBe(true);
    expect(sandbox.stats().byGrant.authorization_code).toBe(1);

    expect(problems).toEqual([]);
  });

  it('refuses a callback whose state is not the one it sent, without calling /swap', async () => {
    const { page, problems } = await openPage();
    const swapCalls: string[] = [];
    page.on('request', (request) => {
      if (isPath('/swap')(request.url())) {
        swapCalls.push(request.url());
      }
    });
    const codeExchanges = sandbox.stats().byGrant.authorization_code;

    // Opened directly: no login was started in this tab at all.
    await page.goto(`${demoUrl}/callback?code=x&state=wrong`);
    await expect.poll(() => page.locator('#error').textContent()).toMatch(/^state_mismatch: /);
    expect(page.url()).toBe(demoUrl);

    // A login is pending, and a callback with somebody else's code and state arrives.
    const authorize = await startLogin(page);
    expect(authorize.searchParams.get('state')).not.toBe('wrong');
    await page.goto(`${demoUrl}/callback?code=x&state=wrong`);
    await expect.poll(() => page.locator('#error').textContent()).toMatch(/^state_mismatch: /);
    expect(page.url()).toBe(demoUrl);

    await page.waitForLoadState('networkidle');
    expect(swapCalls).toEqual([]);
    expect(sandbox.stats().byGrant.authorization_code).toBe(codeExchanges);
    expect(problems).toEqual([]);
  });

  it('shows the error Spotify Accounts put on the redirect', async () => {
    const { page, problems } = await openPage();
    await page.goto(`${demoUrl}/callback?error=server_error&state=x`);
    await expect
      .poll(() => page.locator('#error').textContent())
      .toBe('server_error: Spotify Accounts refused the login.');
    expect(page.url()).toBe(demoUrl);
    expect(await page.locator('#login').isVisible()).toBe(true);
    expect(problems).toEqual([]);
  });

  it('keeps the session of its tab across a reload, without a second code exchange, and refreshes it', async () => {
    const { page, problems } = await openPage();
    await page.goto(demoUrl);
    const tokens = await logIn(page);
    const codeExchanges = sandbox.stats().byGrant.authorization_code;
    const refreshes = sandbox.stats().byGrant.refresh_token;

    const profiled = page.waitForResponse((response) => isPath('/sandbox/v1/me')(response.url()));
    await page.reload();
    expect((await profiled).status()).toBe(200);
    await expect.poll(() => page.locator('#profile').textContent()).toContain('Spotify user id');
    expect(await page.locator('#access-token').textContent()).toBe(mask(tokens.access_token));
    expect(await page.locator('#refresh-token').textContent()).toBe(mask(tokens.refresh_token ?? ''));
    expect(await page.locator('#scopes .chip').allTextContents()).toEqual([
      'user-read-email',
      'user-read-private',
    ]);
    expect(await page.locator('#expires-in').textContent()).toMatch(/^(59|60):\d\d$/);

    // The refresh token came back out of sessionStorage intact: the service accepts it.
    const refreshed = page.waitForResponse((response) => isPath('/refresh')(response.url()));
    await page.locator('#refresh').click();
    const refresh = await refreshed;
    expect(new URLSearchParams(refresh.request().postData() ?? '').get('refresh_token')).toBe(
      tokens.refresh_token,
    );
    const renewed = (await refresh.json()) as TokenBody;
    await expect.poll(() => page.locator('#access-token').textContent()).toBe(mask(renewed.access_token));
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(sandbox.stats().byGrant.authorization_code).toBe(codeExchanges);
    expect(sandbox.stats().byGrant.refresh_token).toBe(refreshes + 1);
    expect(problems).toEqual([]);
  });

  it('says network_error when the swap service cannot be reached, and lets the user try again', async () => {
    const { page, problems } = await openPage();
    await page.route(isPath('/swap'), (route) => route.abort('connectionrefused'));
    await page.goto(demoUrl);
    await startLogin(page);
    await page.locator('#agree').click();
    await expect
      .poll(() => page.locator('#error').textContent())
      .toBe(
        `network_error: Could not reach the swap service at ${server.url}. Check that it is running and reachable.`,
      );
    expect(page.url()).toBe(demoUrl);
    expect(await page.locator('#login').isVisible()).toBe(true);
    expect(await page.locator('#login').isDisabled()).toBe(false);
    expect(problems).toEqual([]);
  });

  it("says profile_error with the Web API's message when /v1/me refuses the token, and keeps the session", async () => {
    const { page, problems } = await openPage();
    // The real sandbox answers, for a token it never issued.
    await page.route(isPath('/sandbox/v1/me'), (route) =>
      route.continue({
        headers: { ...route.request().headers(), authorization: 'Bearer not-a-sandbox-token' },
      }),
    );
    await page.goto(demoUrl);
    const tokens = await logIn(page);
    await expect.poll(() => page.locator('#error').textContent()).toBe('profile_error: Invalid access token');
    expect(await page.locator('#profile').textContent()).toBe('Profile unavailable');
    expect(await page.locator('#logged-in').isVisible()).toBe(true);
    expect(await page.locator('#access-token').textContent()).toBe(mask(tokens.access_token));
    expect(problems).toEqual([]);
  });

  it("says Spotify's quota is spent when /v1/me answers 429 QUOTA_EXCEEDED, not a bare 429, and keeps the session", async () => {
    const { page, problems } = await openPage();
    // The real sandbox's Web API answers the profile fetch with a spent quota, once.
    sandbox.faults.push({ kind: 'rate-limit', retryAfter: 30, reason: 'QUOTA_EXCEEDED', target: 'web-api' });
    await page.goto(demoUrl);
    const profiled = page.waitForResponse((response) => isPath('/sandbox/v1/me')(response.url()));
    const tokens = await logIn(page);
    expect((await profiled).status()).toBe(429);
    await expect
      .poll(() => page.locator('#error').textContent())
      .toBe("profile_error: Spotify's quota for this app is spent (QUOTA_EXCEEDED); try again in 30 s");
    expect(await page.locator('#profile').textContent()).toBe('Profile unavailable');
    expect(await page.locator('#access-token').textContent()).toBe(mask(tokens.access_token));
    expect(problems).toEqual([]);
  });

  it('sends a page opened on localhost to 127.0.0.1 first, where the login comes back, and logs in', async () => {
    const localhost = demoUrl.replace('//127.0.0.1:', '//localhost:');
    const answer = await fetch(`${localhost}?from=bookmark`, { redirect: 'manual' });
    expect([answer.status, answer.headers.get('location')]).toEqual([302, `${demoUrl}?from=bookmark`]);

    const { page, problems } = await openPage();
    await page.goto(localhost);
    expect(page.url()).toBe(demoUrl);
    // The state saved before Accounts is read back on the same origin: no state_mismatch.
    await logIn(page);
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(problems).toEqual([]);
  });

  it('after a restart that forgets its tokens, a refused refresh clears the session and says why', async () => {
    const { page, problems } = await openPage();
    await page.goto(demoUrl);
    await logIn(page);
    // `serve --sandbox` again: a new sandbox, and a new sealing secret for the run.
    startService(SECRET_B);
    const refused = page.waitForResponse((response) => isPath('/refresh')(response.url()));
    await page.locator('#refresh').click();
    expect((await refused).status()).toBe(400);
    await expect
      .poll(() => page.locator('#error').textContent())
      .toBe(
        "invalid_grant: Invalid refresh token. This tab's refresh token is no longer accepted (the sandbox forgets its tokens, and its sealing secret, when it restarts; Spotify's expire or are revoked), so the session was cleared. Log in again.",
      );
    expect(await page.locator('#login').isVisible()).toBe(true);
    expect(await page.locator('#logged-in').isHidden()).toBe(true);
    expect(await page.evaluate('Object.keys(sessionStorage)')).toEqual([]);
    // And the next login works against the restarted service.
    await logIn(page);
    expect(problems).toEqual([]);
  });

  it('signs out in the tab where the service keeps no revocations, and says the tokens still work', async () => {
    startService(SECRET_A, { keepsRevocations: false });
    try {
      const { page, problems } = await openPage();
      await page.goto(demoUrl);
      await logIn(page);
      const refused = page.waitForResponse((response) => isPath('/revoke')(response.url()));
      await page.locator('#logout').click();
      expect((await refused).status()).toBe(501);
      await expect
        .poll(() => page.locator('#signed-out').textContent())
        .toBe(
          'Signed out in this tab. The swap service keeps no revocations, so its tokens still work until they expire.',
        );
      expect(await page.locator('#error').isHidden()).toBe(true);
      expect(await page.locator('#login').isVisible()).toBe(true);
      expect(await page.evaluate('Object.keys(sessionStorage)')).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      startService(SECRET_A);
    }
  });
});
