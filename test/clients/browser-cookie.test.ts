/**
 * A browser app in cookie mode (docs/clients/browser.md): the client kit's `createCookieSession` in
 * real Chromium, on another origin of the same site as the service (both on 127.0.0.1, other ports:
 * the `app.example.com` + `auth.example.com` deployment), through a recording proxy, so the test sees
 * what Chromium writes: the preflight that `X-CSRF` costs, the cookie going along, the Origin. What a
 * page can read back is checked in the page.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as ClientKit from '../../src/client/index.js';
import { KIT_PAGE, kitBundle, launchBrowser } from '../helpers/browser.js';
import { type RawRequest, type RecordingProxy, startRecordingProxy } from '../helpers/clients-wire.js';
import { type Listening, listen } from '../helpers/listen.js';
import { CLIENT_ID, CLIENT_SECRET, SECRET_A, type Stack, startStack } from '../helpers/stack.js';

type Kit = typeof ClientKit;
declare global {
  interface Window {
    kit: Kit;
  }
}

let app: Listening;
let stack: Stack;
let proxy: RecordingProxy;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  const kitSource = await kitBundle();
  app = await listen((request) =>
    new URL(request.url).pathname === '/kit.js'
      ? new Response(kitSource, { headers: { 'Content-Type': 'text/javascript' } })
      : new Response(KIT_PAGE, { headers: { 'Content-Type': 'text/html; charset=utf-8' } }),
  );
  stack = await startStack({
    sandbox: {
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [`${app.url}/callback`] }],
    },
    env: { SPOTIFY_REDIRECT_URI: `${app.url}/callback`, CORS_ORIGINS: app.url, ENCRYPTION_SECRET: SECRET_A },
  });
  proxy = await startRecordingProxy(stack.service.url);
  browser = await launchBrowser();
});

afterAll(async () => {
  await Promise.all(contexts.map((context) => context.close()));
  await browser?.close();
  await proxy?.close();
  await stack?.close();
  await app?.close();
});

async function openApp(): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  context.setDefaultTimeout(5_000);
  const page = await context.newPage();
  await page.goto(`${app.url}/`);
  await page.waitForFunction(() => document.title === 'ready');
  return page;
}

const header = (request: RawRequest, name: string) =>
  request.headers.find(([n]) => n.toLowerCase() === name)?.[1];

describe('a same-site app on a CORS_ORIGINS origin, in cookie mode', () => {
  it('signs in, reloads, coalesces its token calls and logs out with the kit, the cookie and X-CSRF on each call', async () => {
    const page = await openApp();
    // PKCE in the page, with the kit's authorize URL; the sandbox agrees at once.
    const auth = await page.evaluate(
      ({ accountsUrl, clientId, redirectUri }) =>
        window.kit.createAuthorizeUrl({ clientId, redirectUri, scopes: ['user-read-email'], accountsUrl }),
      { accountsUrl: stack.accounts.url, clientId: CLIENT_ID, redirectUri: `${app.url}/callback` },
    );
    await page.goto(auth.url);
    await page.waitForFunction(() => document.title === 'ready');
    const code = new URL(page.url()).searchParams.get('code') ?? '';
    const before = proxy.requests().length;

    const signedIn = await page.evaluate(
      async ({ swapUrl, code, codeVerifier, redirectUri }) => {
        const session = window.kit.createCookieSession({ swapUrl });
        const tokens = await session.swap(code, { redirectUri, codeVerifier });
        return { tokens, cookie: document.cookie };
      },
      { swapUrl: proxy.url, code, codeVerifier: auth.codeVerifier, redirectUri: auth.redirectUri },
    );
    expect(signedIn.cookie).toBe('');
    expect(signedIn.tokens.refreshToken).toBeUndefined();

    await page.reload();
    await page.waitForFunction(() => document.title === 'ready');
    const later = await page.evaluate(async (swapUrl) => {
      const session = window.kit.createCookieSession({ swapUrl });
      const tokens = await Promise.all(Array.from({ length: 5 }, () => session.getAccessToken()));
      const signInNeededBy = await session.signInNeededBy();
      const logout = await session.logout();
      const after = await session.getAccessToken().catch((error: { code?: string }) => error.code);
      return { tokens, signInNeededBy, logout, after };
    }, proxy.url);
    expect(new Set(later.tokens)).toEqual(new Set([signedIn.tokens.accessToken]));
    expect(later.signInNeededBy).toBeGreaterThan(Date.now() + 86_400_000);
    expect(later.logout).toEqual({ outcome: 'revoked' });
    expect(later.after).toBe('not_logged_in');

    const sent = proxy.requests().slice(before);
    const posts = sent.filter((request) => request.method === 'POST');
    expect(posts.map((request) => [request.target, header(request, 'cookie') !== undefined])).toEqual([
      ['/session/swap', false],
      ['/session/token', true],
      ['/session/logout', true],
      // The logout cleared the cookie.
      ['/session/token', false],
    ]);
    for (const request of posts) {
      expect(header(request, 'x-csrf')).toBe('1');
      expect(header(request, 'origin')).toBe(app.url);
      expect(header(request, 'sec-fetch-site')).toBe('same-site');
    }
    // X-CSRF is not a safelisted header: the first call of each URL is preflighted.
    const preflight = sent.find(
      (request) => request.method === 'OPTIONS' && request.target === '/session/swap',
    );
    expect(preflight && header(preflight, 'access-control-request-headers')).toBe('x-csrf');
  });
});
