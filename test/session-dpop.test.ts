/**
 * DPoP and the session endpoints (docs/sessions.md, "DPoP"), over real sockets against the sandbox. A
 * session's login is never bound to a DPoP key: the HttpOnly cookie is what ties it to the browser. So
 * with DPOP=optional a `DPoP` header on /session/* or the proxy is ignored (a proof made for
 * /session/swap does not bind the cookie's login, and later calls need none); with DPOP=required,
 * which promises that every login of the app is key-bound, the session endpoints and the proxy answer
 * 501 session_unavailable before Spotify is called, while /swap and /token keep requiring a proof.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSealer } from '../src/server/sealing/index.js';
import { createCookieSealer } from '../src/server/session/cookie.js';
import { proof, proofFor, proofKey } from './helpers/dpop.js';
import { tokenCalls } from './helpers/sandbox-control.js';
import { authorize, CLIENT_ID, REDIRECT_URI, SECRET_A, type Stack, startStack } from './helpers/stack.js';
import { testClock } from './helpers/tokens.js';

const APP_ORIGIN = 'http://127.0.0.1:5173';
const COOKIE = '__Host-token-swap';
const GOOD = { Origin: APP_ORIGIN, 'X-CSRF': '1' };
const binding = { app: 'default', clientId: CLIENT_ID };

function post(stack: Stack, path: string, headers: Record<string, string>, body?: Record<string, string>) {
  return fetch(`${stack.service.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body ?? {}),
  });
}

const cookieOf = (response: Response) => response.headers.getSetCookie()[0]?.split(';', 1)[0] ?? '';

/** The key thumbprint the cookie's login is bound to, opened with the test's secret; undefined: none. */
async function keyBindingOf(cookie: string): Promise<string | undefined> {
  const contents = await createCookieSealer([SECRET_A], binding).open(cookie.slice(COOKIE.length + 1));
  if (!contents) throw new Error('the cookie does not open');
  const { grant } = await createSealer([SECRET_A], binding).unseal(contents.refreshToken);
  return grant.keyBinding;
}

describe('DPOP=optional: a session is not bound, and DPoP headers on it are ignored', () => {
  const clock = testClock();
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: { CORS_ORIGINS: APP_ORIGIN, DPOP: 'optional', API_PROXY_PATHS: 'GET /v1/me' },
      now: clock.now,
    });
  });
  afterAll(() => stack?.close());

  it('swaps with a proof into an unbound login, which refreshes and proxies without one, and with a proof for another URL', async () => {
    const key = await proofKey();
    const { code } = await authorize(stack.accounts.url);
    const swapped = await post(
      stack,
      '/session/swap',
      { ...GOOD, DPoP: await proofFor(stack, key, '/session/swap', clock.now()) },
      { code, redirect_uri: REDIRECT_URI },
    );
    expect(swapped.status).toBe(200);
    const cookie = cookieOf(swapped);
    expect(await keyBindingOf(cookie)).toBeUndefined();

    // Past the cached token's life: /session/token refreshes at Spotify, with no proof.
    clock.advance(3600 * 1000);
    const before = await tokenCalls(stack.accounts.url);
    const token = await post(stack, '/session/token', { ...GOOD, Cookie: cookie });
    expect(token.status).toBe(200);
    expect(await tokenCalls(stack.accounts.url)).toBe(before + 1);
    const renewed = cookieOf(token);
    expect(await keyBindingOf(renewed)).toBeUndefined();

    // A proof whose htu is the proxy's path, as a page's DPoP-minded fetch would send: not used.
    const proxied = await fetch(`${stack.service.url}/spotify/v1/me`, {
      headers: {
        ...GOOD,
        Cookie: renewed,
        DPoP: await proof(key, 'GET', `${stack.service.url}/spotify/v1/me`, { nowMs: clock.now() }),
      },
    });
    expect(proxied.status).toBe(200);
    expect(await proxied.json()).toMatchObject({ type: 'user' });
  });

  it('does not read a DPoP header on /session/token and /session/logout: even one that is no proof', async () => {
    const { code } = await authorize(stack.accounts.url);
    const swapped = await post(stack, '/session/swap', { ...GOOD, DPoP: 'not-a-proof' }, { code });
    expect(swapped.status).toBe(200);
    const cookie = cookieOf(swapped);
    const token = await post(stack, '/session/token', { ...GOOD, Cookie: cookie, DPoP: 'not-a-proof' });
    expect(token.status).toBe(200);
    const out = await post(stack, '/session/logout', { ...GOOD, Cookie: cookie, DPoP: 'not-a-proof' });
    expect(out.status).toBe(200);
    const after = await post(stack, '/session/token', { ...GOOD, Cookie: cookie });
    expect([after.status, ((await after.json()) as { error: string }).error]).toEqual([400, 'invalid_grant']);
  });
});

describe('DPOP=required: no sessions, as every login of the app must be key-bound', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: { CORS_ORIGINS: APP_ORIGIN, DPOP: 'required', API_PROXY_PATHS: 'GET /v1/me' },
    });
  });
  afterAll(() => stack?.close());

  const refusal = {
    error: 'session_unavailable',
    error_description:
      'Session endpoints are off for this app: DPOP=required binds every login to a DPoP key, and a session keeps its login in a cookie instead (see docs/sessions.md)',
  };

  it('answers /session/swap 501 session_unavailable without spending the code, with a proof or without', async () => {
    const key = await proofKey();
    const { code } = await authorize(stack.accounts.url);
    const before = await tokenCalls(stack.accounts.url);
    for (const headers of [GOOD, { ...GOOD, DPoP: await proofFor(stack, key, '/session/swap') }]) {
      const response = await post(stack, '/session/swap', headers, { code, redirect_uri: REDIRECT_URI });
      expect([response.status, await response.json()]).toEqual([501, refusal]);
      expect(response.headers.getSetCookie()).toEqual([]);
    }
    expect(await tokenCalls(stack.accounts.url)).toBe(before);
    // The code is still good where a proof binds it.
    const bound = await post(
      stack,
      '/swap',
      { DPoP: await proofFor(stack, key, '/swap') },
      { code, redirect_uri: REDIRECT_URI },
    );
    expect(bound.status).toBe(200);
  });

  it('answers /session/token, /session/logout and the proxy 501 session_unavailable too', async () => {
    for (const path of ['/session/token', '/session/logout']) {
      const response = await post(stack, path, GOOD);
      expect([path, response.status, await response.json()]).toEqual([path, 501, refusal]);
    }
    const proxied = await fetch(`${stack.service.url}/spotify/v1/me`, { headers: GOOD });
    expect([proxied.status, await proxied.json()]).toEqual([501, refusal]);
  });

  it('says so at start-up', () => {
    const notice = stack.logs.find((line) => String(line.msg).startsWith('session endpoints:'));
    expect(notice).toMatchObject({ dpopRequired: ['default'] });
    expect(String(notice?.msg)).toContain('apps with DPOP=required answer them 501');
  });
});
