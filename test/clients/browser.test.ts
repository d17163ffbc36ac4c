/**
 * A browser app on its own origin, using the client kit (`spotify-token-swap/client`, bundled from
 * src/client as an app's bundler would) in real headless Chromium against the service on another
 * origin, through a recording proxy: the test sees exactly what Chromium writes (CORS preflight or
 * not, Origin, Sec-Fetch-*) and what the page can read back. Nothing here is assumed: it is recorded.
 *
 * What a browser needs (the Fetch standard's CORS protocol): `Access-Control-Allow-Origin` for the
 * page's origin on every answer, a 204 preflight for requests that are not "simple" (a JSON body),
 * and `Access-Control-Expose-Headers` for anything beyond the safelisted response headers
 * (Retry-After).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as ClientKit from '../../src/client/index.js';
import { KIT_PAGE, kitBundle, launchBrowser } from '../helpers/browser.js';
import {
  formFields,
  type RawRequest,
  type RecordingProxy,
  startRecordingProxy,
} from '../helpers/clients-wire.js';
import { type Listening, listen } from '../helpers/listen.js';
import { CLIENT_ID, CLIENT_SECRET, SECRET_A, type Stack, startStack } from '../helpers/stack.js';

type Kit = typeof ClientKit;
declare global {
  interface Window {
    kit: Kit;
  }
}

let kitSource: string;
let app: Listening;
let appOrigin: string;
let stack: Stack;
let proxy: RecordingProxy;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  kitSource = await kitBundle();
  // The app: one page (also its redirect target) and the kit, on its own origin.
  app = await listen((request) => {
    const { pathname } = new URL(request.url);
    if (pathname === '/kit.js') {
      return new Response(kitSource, { headers: { 'Content-Type': 'text/javascript' } });
    }
    return new Response(KIT_PAGE, { headers: { 'Content-Type': 'text/html; charset=utf-8' } });
  });
  appOrigin = app.url;
  stack = await startStack({
    sandbox: {
      clients: [
        { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [`${appOrigin}/callback`] },
      ],
    },
    env: {
      SPOTIFY_REDIRECT_URI: `${appOrigin}/callback`,
      CORS_ORIGINS: appOrigin,
      ENCRYPTION_SECRET: SECRET_A,
    },
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

async function openApp(origin = appOrigin): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  context.setDefaultTimeout(5_000);
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => document.title === 'ready');
  return page;
}

/** The app's login: authorize URL from the kit, the browser through the (auto-approving) sandbox. */
async function logIn(page: Page): Promise<{ code: string; codeVerifier: string; redirectUri: string }> {
  const auth = await page.evaluate(
    ({ accountsUrl, clientId, redirectUri }) =>
      window.kit.createAuthorizeUrl({ clientId, redirectUri, scopes: ['user-read-email'], accountsUrl }),
    { accountsUrl: stack.accounts.url, clientId: CLIENT_ID, redirectUri: `${appOrigin}/callback` },
  );
  await page.goto(auth.url);
  await page.waitForFunction(() => document.title === 'ready');
  const back = new URL(page.url());
  expect(back.origin + back.pathname).toBe(`${appOrigin}/callback`);
  expect(back.searchParams.get('state')).toBe(auth.state);
  return {
    code: back.searchParams.get('code') ?? '',
    codeVerifier: auth.codeVerifier,
    redirectUri: auth.redirectUri,
  };
}

function header(request: RawRequest, name: string): string | undefined {
  return request.headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

function recordedSince(count: number): RawRequest[] {
  return proxy.requests().slice(count);
}

describe('a browser app on a CORS_ORIGINS origin', () => {
  it('swaps and refreshes with the client kit, in simple requests that need no preflight', async () => {
    const page = await openApp();
    const login = await logIn(page);
    const before = proxy.requests().length;
    const result = await page.evaluate(
      async ({ swapUrl, code, codeVerifier, redirectUri }) => {
        const client = window.kit.createSwapClient({ swapUrl });
        const swapped = await client.swap(code, { redirectUri, codeVerifier });
        const refreshed = await client.refresh(swapped.refresh_token ?? '');
        return { swapped, refreshed };
      },
      { swapUrl: proxy.url, ...login },
    );
    expect(result.swapped).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'user-read-email',
    });
    expect(result.swapped.refresh_token).toMatch(/^sts2\./);
    expect(result.refreshed.expires_in).toBe(3600);
    expect(result.refreshed.refresh_token).toBeUndefined();

    const sent = recordedSince(before);
    // A form body with Accept: application/json is a CORS "simple" request: no OPTIONS first.
    expect(sent.map((r) => [r.method, r.target])).toEqual([
      ['POST', '/swap'],
      ['POST', '/refresh'],
    ]);
    for (const request of sent) {
      expect(header(request, 'origin')).toBe(appOrigin);
      expect(header(request, 'content-type')).toBe('application/x-www-form-urlencoded');
      expect(header(request, 'accept')).toBe('application/json');
      expect(header(request, 'sec-fetch-mode')).toBe('cors');
    }
    expect(formFields(sent[0]?.body ?? Buffer.alloc(0)).map(([name]) => name)).toEqual([
      'code',
      'redirect_uri',
      'code_verifier',
    ]);
  });

  it('signs out with the kit: revoke is a simple request too, and the page reads its answer (CORS)', async () => {
    const page = await openApp();
    const login = await logIn(page);
    const before = proxy.requests().length;
    const result = await page.evaluate(
      async ({ swapUrl, code, codeVerifier, redirectUri }) => {
        const client = window.kit.createSwapClient({ swapUrl });
        const swapped = await client.swap(code, { redirectUri, codeVerifier });
        const revoked = await client.revoke(swapped.refresh_token ?? '');
        const refresh = await client.refresh(swapped.refresh_token ?? '').then(
          () => 'refreshed',
          (error: { error?: string }) => error.error,
        );
        return { revoked, refresh };
      },
      { swapUrl: proxy.url, ...login },
    );
    expect(result).toEqual({ revoked: { outcome: 'revoked' }, refresh: 'invalid_grant' });
    const sent = recordedSince(before);
    expect(sent.map((r) => [r.method, r.target])).toEqual([
      ['POST', '/swap'],
      ['POST', '/revoke'],
      ['POST', '/refresh'],
    ]);
    const revoke = sent[1] as RawRequest;
    expect(header(revoke, 'origin')).toBe(appOrigin);
    expect(header(revoke, 'content-type')).toBe('application/x-www-form-urlencoded');
    expect(formFields(revoke.body).map(([name]) => name)).toEqual(['token', 'token_type_hint']);
  });

  it('passes the preflight a JSON body needs, then the JSON request', async () => {
    const page = await openApp();
    const login = await logIn(page);
    const before = proxy.requests().length;
    const answer = await page.evaluate(
      async ({ swapUrl, code, codeVerifier, redirectUri }) => {
        const response = await fetch(`${swapUrl}/swap`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ code, redirect_uri: redirectUri, code_verifier: codeVerifier }),
        });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      },
      { swapUrl: proxy.url, ...login },
    );
    expect(answer.status).toBe(200);
    expect(answer.body.access_token).toMatch(/^BQ/);
    const sent = recordedSince(before);
    expect(sent.map((r) => [r.method, r.target])).toEqual([
      ['OPTIONS', '/swap'],
      ['POST', '/swap'],
    ]);
    expect(header(sent[0] as RawRequest, 'access-control-request-method')).toBe('POST');
    expect(header(sent[0] as RawRequest, 'access-control-request-headers')).toBe('content-type');
  });

  it("reads Retry-After on the service's 429 (an exposed header)", async () => {
    const limited = await startStack({
      env: { CORS_ORIGINS: appOrigin, ENCRYPTION_SECRET: SECRET_A, RATE_LIMIT_REFRESH_PER_MINUTE: '1' },
    });
    try {
      const page = await openApp();
      const errors = await page.evaluate(async (swapUrl) => {
        const client = window.kit.createSwapClient({ swapUrl });
        const seen: { error: string; status: number; retryAfter: number | undefined }[] = [];
        for (let i = 0; i < 2; i++) {
          try {
            await client.refresh('sts1.AAAA');
          } catch (error) {
            const { error: code, status, retryAfter } = error as InstanceType<Kit['SwapServiceError']>;
            seen.push({ error: code, status, retryAfter });
          }
        }
        return seen;
      }, limited.service.url);
      expect(errors[0]).toEqual({ error: 'invalid_grant', status: 400, retryAfter: undefined });
      expect(errors[1]?.error).toBe('rate_limited');
      expect(errors[1]?.status).toBe(429);
      expect(errors[1]?.retryAfter).toBeGreaterThanOrEqual(1);
    } finally {
      await limited.close();
    }
  });
});

describe('a browser app on an origin missing from CORS_ORIGINS', () => {
  it('cannot read the answer: the kit reports the service as unreachable', async () => {
    // Same app, other origin: localhost is not 127.0.0.1 to a browser.
    const otherOrigin = appOrigin.replace('127.0.0.1', 'localhost');
    const page = await openApp(otherOrigin);
    const before = proxy.requests().length;
    const failure = await page.evaluate(async (swapUrl) => {
      try {
        await window.kit.createSwapClient({ swapUrl }).swap('AQD-not-a-code');
        return undefined;
      } catch (error) {
        return { name: (error as Error).name, code: (error as { code?: string }).code };
      }
    }, proxy.url);
    expect(failure).toEqual({ name: 'SwapServiceUnreachableError', code: 'unreachable' });
    // The request did go out; the browser withheld the answer, which had no Allow-Origin for it.
    const [sent] = recordedSince(before);
    expect(header(sent as RawRequest, 'origin')).toBe(otherOrigin);
  });
});
