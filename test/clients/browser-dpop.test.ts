/**
 * A browser app's DPoP login in real headless Chromium, with the client kit bundled from src/client:
 * a non-extractable key made by WebCrypto, the whole login (that key included, as a CryptoKey) kept in
 * IndexedDB, and after a reload a session on that store refreshing and signing out with proofs by the
 * same key, which jose verifies. The app's server forwards /swap, /refresh and /revoke to the swap
 * service (same origin, as a reverse proxy does; PUBLIC_URL is the app's origin), recording the DPoP
 * headers on the way.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as ClientKit from '../../src/client/index.js';
import { KIT_PAGE, kitBundle, launchBrowser } from '../helpers/browser.js';
import { verifyProof } from '../helpers/dpop.js';
import { type Listening, listen } from '../helpers/listen.js';
import { CLIENT_ID, CLIENT_SECRET, type Stack, startStack } from '../helpers/stack.js';

declare global {
  interface Window {
    kit: typeof ClientKit;
  }
}

const FORWARDED = new Set(['/swap', '/refresh', '/revoke']);

let app: Listening;
let stack: Stack;
let browser: Browser;
const proofs: { path: string; proof: string | null }[] = [];

beforeAll(async () => {
  const kitSource = await kitBundle();
  app = await listen(async (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === '/kit.js') {
      return new Response(kitSource, { headers: { 'Content-Type': 'text/javascript' } });
    }
    if (FORWARDED.has(pathname) && request.method === 'POST') {
      proofs.push({ path: pathname, proof: request.headers.get('dpop') });
      const headers = new Headers(request.headers);
      headers.delete('host');
      const answer = await fetch(`${stack.service.url}${pathname}`, {
        method: 'POST',
        headers,
        body: await request.arrayBuffer(),
      });
      return new Response(answer.body, { status: answer.status, headers: answer.headers });
    }
    return new Response(KIT_PAGE, { headers: { 'Content-Type': 'text/html; charset=utf-8' } });
  });
  stack = await startStack({
    sandbox: {
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [`${app.url}/callback`] }],
    },
    env: { SPOTIFY_REDIRECT_URI: `${app.url}/callback`, PUBLIC_URL: app.url },
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await app?.close();
});

async function ready(page: Page) {
  await page.waitForFunction(() => document.title === 'ready');
}

describe('a DPoP login in the browser, kept in IndexedDB', () => {
  it('keeps the non-extractable key through a reload, and refreshes and signs out with proofs by it', async () => {
    const context = await browser.newContext();
    try {
      context.setDefaultTimeout(5_000);
      const page = await context.newPage();
      await page.goto(`${app.url}/`);
      await ready(page);
      const auth = await page.evaluate(
        ({ accountsUrl, clientId, redirectUri }) =>
          window.kit.createAuthorizeUrl({ clientId, redirectUri, accountsUrl }),
        { accountsUrl: stack.accounts.url, clientId: CLIENT_ID, redirectUri: `${app.url}/callback` },
      );
      await page.goto(auth.url);
      await ready(page);

      const publicJwk = await page.evaluate(
        async ({ codeVerifier, redirectUri }) => {
          const { kit } = window;
          const code = new URLSearchParams(location.search).get('code') ?? '';
          const dpopKey = await kit.createDpopKey();
          const client = kit.createSwapClient({ swapUrl: location.origin, dpopKey });
          const answer = await client.swap(code, { redirectUri, codeVerifier });
          const tokens = { ...kit.tokenSetFromResponse(answer), expiresAt: 0 };
          await kit.createIndexedDbStore().save({ swapUrl: location.origin, tokens, dpopKey });
          return dpopKey.publicJwk;
        },
        { codeVerifier: auth.codeVerifier, redirectUri: auth.redirectUri },
      );

      await page.reload();
      await ready(page);
      const after = await page.evaluate(async () => {
        const { kit } = window;
        const store = kit.createIndexedDbStore();
        const stored = await store.load();
        const privateKey = stored?.dpopKey?.privateKey;
        const exported = await kit.exportDpopKey(stored?.dpopKey as ClientKit.DpopKey).then(
          () => 'exported',
          (error: Error) => error.message,
        );
        const session = kit.createSession({ store });
        const accessToken = await session.getAccessToken();
        const logout = await session.logout();
        return {
          isCryptoKey: privateKey instanceof CryptoKey,
          extractable: privateKey?.extractable,
          exported,
          accessToken: accessToken.length > 0,
          logout: logout.outcome,
          afterLogout: (await store.load()) ?? null,
        };
      });
      expect(after).toEqual({
        isCryptoKey: true,
        extractable: false,
        exported: expect.stringContaining('not extractable'),
        accessToken: true,
        logout: 'revoked',
        afterLogout: null,
      });

      expect(proofs.map((sent) => sent.path)).toEqual(['/swap', '/refresh', '/revoke']);
      for (const sent of proofs) {
        const { header, payload } = await verifyProof(sent.proof ?? '');
        expect(header.jwk).toEqual(publicJwk);
        expect(payload.htu).toBe(`${app.url}${sent.path}`);
      }
    } finally {
      await context.close();
    }
  });
});
