/**
 * The session endpoints in real Chromium (issue 15): a page on an allowed origin (same site as the
 * service: both on 127.0.0.1, other ports) signs in, reloads, gets its token from the cookie without a
 * Spotify call, refreshes near expiry, logs out; the refresh token is never within the page's reach.
 * A cross-site page (localhost, another site) gets nothing. Also what Chromium does with `__Host-` and
 * `Secure` on http://127.0.0.1: it keeps them (loopback is potentially trustworthy), which is why the
 * service sets the same attributes there as in production.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './helpers/browser.js';
import { type Listening, listen } from './helpers/listen.js';
import { tokenCalls } from './helpers/sandbox-control.js';
import { authorize, REDIRECT_URI, type Stack, startStack } from './helpers/stack.js';
import { testClock } from './helpers/tokens.js';

const PAGE = '<!doctype html><meta charset="utf-8"><title>app</title><p>app</p>';

let app: Listening;
let crossSite: Listening;
let crossSiteOrigin: string;
let stack: Stack;
let browser: Browser;
const clock = testClock();

beforeAll(async () => {
  const page = () => new Response(PAGE, { headers: { 'Content-Type': 'text/html; charset=utf-8' } });
  app = await listen(page);
  crossSite = await listen(page);
  // Another site: `localhost` is not `127.0.0.1`, whatever the port.
  crossSiteOrigin = crossSite.url.replace('127.0.0.1', 'localhost');
  stack = await startStack({ env: { CORS_ORIGINS: app.url }, now: clock.now });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([stack?.close(), app?.close(), crossSite?.close()]);
});

interface Seen {
  status: number;
  body: Record<string, unknown>;
}

/** A session request from the page, as a kit would send it: credentials included, X-CSRF set. */
function call(page: Page, url: string, fields: Record<string, string> = {}, csrf = true): Promise<Seen> {
  return page.evaluate(
    async ({ url, fields, csrf }) => {
      const response = await fetch(url, {
        method: 'POST',
        credentials: 'include',
        headers: csrf ? { 'X-CSRF': '1' } : {},
        body: new URLSearchParams(fields),
      });
      return { status: response.status, body: await response.json() };
    },
    { url, fields, csrf },
  );
}

describe('a page on an allowed origin', () => {
  it('signs in, reloads, refreshes near expiry and logs out, never holding the refresh token', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(app.url);
    const service = stack.service.url;
    const received: Seen[] = [];

    const { code } = await authorize(stack.accounts.url);
    const swapped = await call(page, `${service}/session/swap`, { code, redirect_uri: REDIRECT_URI });
    received.push(swapped);
    expect(swapped.status).toBe(200);
    expect(swapped.body.access_token).toEqual(expect.any(String));

    const [cookie, ...others] = await context.cookies(service);
    expect(others).toEqual([]);
    expect(cookie).toMatchObject({
      name: '__Host-token-swap',
      domain: '127.0.0.1',
      path: '/',
      secure: true,
      httpOnly: true,
      sameSite: 'Strict',
    });
    expect(cookie?.expires).toBeGreaterThan(Date.now() / 1000 + 86_400);

    await page.reload();
    const calls = await tokenCalls(stack.accounts.url);
    const reloaded = await call(page, `${service}/session/token`);
    received.push(reloaded);
    expect(reloaded).toMatchObject({ status: 200, body: { access_token: swapped.body.access_token } });
    expect(await tokenCalls(stack.accounts.url)).toBe(calls);

    clock.advance((3600 - 30) * 1000);
    const refreshed = await call(page, `${service}/session/token`);
    received.push(refreshed);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access_token).not.toBe(swapped.body.access_token);
    expect(await tokenCalls(stack.accounts.url)).toBe(calls + 1);

    expect(await page.evaluate(() => document.cookie)).toBe('');
    for (const seen of received) expect(seen.body).not.toHaveProperty('refresh_token');

    const [beforeLogout] = await context.cookies(service);
    const out = await call(page, `${service}/session/logout`);
    expect(out).toEqual({ status: 200, body: {} });
    expect(await context.cookies(service)).toEqual([]);
    expect(await call(page, `${service}/session/token`)).toMatchObject({
      status: 401,
      body: { error: 'login_required' },
    });

    // The old cookie, had it been copied, reaches a revoked login once its cached token is stale.
    clock.advance(3600 * 1000);
    const replayed = await fetch(`${service}/session/token`, {
      method: 'POST',
      headers: { 'X-CSRF': '1', Origin: app.url, Cookie: `__Host-token-swap=${beforeLogout?.value}` },
    });
    expect(replayed.status).toBe(400);
    expect(await replayed.json()).toMatchObject({ error: 'invalid_grant' });
    await context.close();
  });

  it('is refused without X-CSRF, and can read why', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(app.url);
    expect(await call(page, `${stack.service.url}/session/token`, {}, false)).toEqual({
      status: 403,
      body: { error: 'invalid_request', error_description: 'Session requests need the header X-CSRF: 1' },
    });
    await context.close();
  });
});

describe('a cross-site page', () => {
  it('cannot get a token: its credentialed fetch fails the preflight, its form POST is refused', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(crossSiteOrigin);
    const fetched = await page.evaluate(async (url) => {
      try {
        await fetch(url, { method: 'POST', credentials: 'include', headers: { 'X-CSRF': '1' } });
        return 'answered';
      } catch (error) {
        return (error as Error).name;
      }
    }, `${stack.service.url}/session/token`);
    expect(fetched).toBe('TypeError');

    await page.setContent(
      `<form method="post" action="${stack.service.url}/session/token"><input name="x" value="1"></form>`,
    );
    const [navigated] = await Promise.all([
      page.waitForNavigation(),
      page.evaluate(() => document.querySelector('form')?.submit()),
    ]);
    expect(navigated?.status()).toBe(403);
    expect(JSON.parse((await page.textContent('pre')) ?? '')).toEqual({
      error: 'invalid_request',
      error_description: 'Session requests need the header X-CSRF: 1',
    });
    await context.close();
  });
});
