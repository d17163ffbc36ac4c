/**
 * The Web API proxy in real Chromium (issue 15): a page on an allowed origin, signed in through
 * /session/swap, calls `/spotify/v1/me` with its cookie and `X-CSRF: 1` and gets Spotify's answer; a
 * path off the list is a 403 it can read; the cookie, which the page cannot see, never reaches the
 * Web API. Node's side is test/proxy.test.ts.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebApiRequestSummary } from '../src/sandbox/index.js';
import { launchBrowser } from './helpers/browser.js';
import { type Listening, listen } from './helpers/listen.js';
import { authorize, REDIRECT_URI, type Stack, startStack } from './helpers/stack.js';

const PAGE = '<!doctype html><meta charset="utf-8"><title>app</title><p>app</p>';

let app: Listening;
let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  app = await listen(() => new Response(PAGE, { headers: { 'Content-Type': 'text/html; charset=utf-8' } }));
  stack = await startStack({ env: { CORS_ORIGINS: app.url, API_PROXY_PATHS: 'GET /v1/me' } });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([stack?.close(), app?.close()]);
});

interface Seen {
  status: number;
  body: Record<string, unknown>;
}

function get(page: Page, url: string): Promise<Seen> {
  return page.evaluate(async (url) => {
    const response = await fetch(url, { credentials: 'include', headers: { 'X-CSRF': '1' } });
    return { status: response.status, body: await response.json() };
  }, url);
}

describe('a page on an allowed origin', () => {
  it('calls /spotify/v1/me with its cookie, and is refused /spotify/v1/me/following', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(app.url);
    const service = stack.service.url;
    const { code } = await authorize(stack.accounts.url);
    const swapped = await page.evaluate(
      async ({ url, fields }) => {
        const response = await fetch(url, {
          method: 'POST',
          credentials: 'include',
          headers: { 'X-CSRF': '1' },
          body: new URLSearchParams(fields),
        });
        return response.status;
      },
      { url: `${service}/session/swap`, fields: { code, redirect_uri: REDIRECT_URI } },
    );
    expect(swapped).toBe(200);

    const me = await get(page, `${service}/spotify/v1/me`);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ type: 'user', id: expect.any(String) });
    const stats = (await (await fetch(`${stack.accounts.url}/__sandbox/stats`)).json()) as {
      lastWebApiRequest: WebApiRequestSummary;
    };
    expect(stats.lastWebApiRequest.path).toBe('/v1/me');
    expect(stats.lastWebApiRequest.headerNames).not.toContain('cookie');
    expect(stats.lastWebApiRequest.headerNames).not.toContain('origin');

    expect(await get(page, `${service}/spotify/v1/me/following`)).toEqual({
      status: 403,
      body: {
        error: 'path_not_allowed',
        error_description:
          "This method and path are not on the app's Web API proxy allowlist (API_PROXY_PATHS)",
      },
    });
    await context.close();
  });
});
