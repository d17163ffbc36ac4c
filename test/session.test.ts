/**
 * The session endpoints (issue 15, docs/sessions.md) over real sockets against the sandbox: the
 * refresh token goes into the sealed HttpOnly cookie and never into an answer; a cached access token
 * costs no Spotify call; a refresh near expiry and a logout run the token endpoints' machinery; CSRF
 * and origin checks refuse what a cross-site page could send. Chromium's side is
 * test/session-browser.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenCalls } from './helpers/sandbox-control.js';
import { authorize, REDIRECT_URI, type Stack, startStack, UNSEALED } from './helpers/stack.js';
import { startStorelessService } from './helpers/storeless-service.js';
import { refresh, testClock } from './helpers/tokens.js';

const APP_ORIGIN = 'http://127.0.0.1:5173';
const COOKIE = '__Host-token-swap';

let stack: Stack;
const clock = testClock();
beforeAll(async () => {
  stack = await startStack({ env: { CORS_ORIGINS: APP_ORIGIN }, now: clock.now });
});
afterAll(() => stack.close());

const GOOD = { Origin: APP_ORIGIN, 'X-CSRF': '1' };

function post(path: string, headers: Record<string, string>, body?: Record<string, string>) {
  return fetch(`${stack.service.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body ?? {}),
  });
}

/** The cookie's value from an answer's Set-Cookie, and the attributes it was set with. */
function setCookie(response: Response): { value: string; attributes: string } | undefined {
  const [line] = response.headers.getSetCookie();
  if (line === undefined) return undefined;
  const [pair = '', ...attributes] = line.split('; ');
  expect(pair.startsWith(`${COOKIE}=`)).toBe(true);
  return { value: pair.slice(COOKIE.length + 1), attributes: attributes.join('; ') };
}

async function sessionSwap(): Promise<{ cookie: string; body: Record<string, unknown>; response: Response }> {
  const { code } = await authorize(stack.accounts.url);
  const response = await post('/session/swap', GOOD, { code, redirect_uri: REDIRECT_URI });
  const body = (await response.json()) as Record<string, unknown>;
  expect(response.status).toBe(200);
  const set = setCookie(response);
  if (!set) throw new Error('no session cookie was set');
  return { cookie: `${COOKIE}=${set.value}`, body, response };
}

describe('POST /session/swap', () => {
  it('answers the access token without a refresh token, which goes into the __Host- cookie', async () => {
    const { response, body } = await sessionSwap();
    expect(body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'user-read-email user-read-private',
    });
    expect(body.access_token).toEqual(expect.any(String));
    expect(body).not.toHaveProperty('refresh_token');
    expect(body.refresh_token_expires_in).toEqual(expect.any(Number));
    const set = setCookie(response);
    expect(set?.value.startsWith('tsc1.')).toBe(true);
    const attributes = (set?.attributes ?? '').split('; ');
    expect(attributes).toEqual(
      expect.arrayContaining([
        'Path=/',
        'Secure',
        'HttpOnly',
        'SameSite=Strict',
        `Max-Age=${body.refresh_token_expires_in}`,
      ]),
    );
    expect(attributes.some((one) => one.startsWith('Domain'))).toBe(false);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('writes no session cookie value to the log', async () => {
    const { cookie } = await sessionSwap();
    expect(stack.rawLogs()).not.toContain(cookie.split('=')[1]);
  });
});

describe('POST /session/token', () => {
  it('hands out the cached access token without a Spotify call while it has more than a minute left', async () => {
    const { cookie, body } = await sessionSwap();
    const calls = await tokenCalls(stack.accounts.url);
    const again = await post('/session/token', { ...GOOD, Cookie: cookie });
    const answer = (await again.json()) as Record<string, unknown>;
    expect(again.status).toBe(200);
    expect(answer.access_token).toBe(body.access_token);
    expect(answer).not.toHaveProperty('refresh_token');
    expect(again.headers.getSetCookie()).toEqual([]);
    expect(await tokenCalls(stack.accounts.url)).toBe(calls);
  });

  it('refreshes through Spotify once the cached token has a minute or less, and updates the cookie', async () => {
    const { cookie, body } = await sessionSwap();
    const calls = await tokenCalls(stack.accounts.url);
    clock.advance((3600 - 60) * 1000);
    const refreshed = await post('/session/token', { ...GOOD, Cookie: cookie });
    const answer = (await refreshed.json()) as Record<string, unknown>;
    expect(refreshed.status).toBe(200);
    expect(answer.access_token).not.toBe(body.access_token);
    expect(answer).not.toHaveProperty('refresh_token');
    expect(await tokenCalls(stack.accounts.url)).toBe(calls + 1);
    const next = setCookie(refreshed);
    expect(next?.value).toEqual(expect.stringMatching(/^tsc1\./));
    // The new cookie's cached token is the new one: no further call.
    const cachedAgain = await post('/session/token', { ...GOOD, Cookie: `${COOKIE}=${next?.value}` });
    expect(((await cachedAgain.json()) as Record<string, unknown>).access_token).toBe(answer.access_token);
    expect(await tokenCalls(stack.accounts.url)).toBe(calls + 1);
  });

  it('answers 401 login_required without a cookie, and for one that does not open', async () => {
    for (const headers of [
      GOOD,
      { ...GOOD, Cookie: `${COOKIE}=tsc1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA` },
    ]) {
      const response = await post('/session/token', headers);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({
        error: 'login_required',
        error_description: 'No session: sign in again (POST /session/swap)',
      });
    }
  });

  it('refuses a sealed refresh token as a cookie value, and a cookie value as a refresh token', async () => {
    const { cookie } = await sessionSwap();
    const value = cookie.slice(COOKIE.length + 1);
    expect((await refresh(stack, value)).status).toBe(400);
    const { code } = await authorize(stack.accounts.url);
    const swapped = (await (await post('/swap', {}, { code, redirect_uri: REDIRECT_URI })).json()) as {
      refresh_token: string;
    };
    const asCookie = await post('/session/token', { ...GOOD, Cookie: `${COOKIE}=${swapped.refresh_token}` });
    expect(asCookie.status).toBe(401);
  });
});

describe('POST /session/logout', () => {
  it('revokes the login and clears the cookie: the refresh token is refused afterwards', async () => {
    const { cookie } = await sessionSwap();
    const out = await post('/session/logout', { ...GOOD, Cookie: cookie });
    expect(out.status).toBe(200);
    expect(await out.json()).toEqual({});
    expect(out.headers.getSetCookie()).toEqual([
      `${COOKIE}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Strict`,
    ]);
    // The old cookie, replayed once its cached token is stale, reaches the revoked login.
    clock.advance(3600 * 1000);
    const replayed = await post('/session/token', { ...GOOD, Cookie: cookie });
    expect(replayed.status).toBe(400);
    expect(((await replayed.json()) as { error: string }).error).toBe('invalid_grant');
    expect(replayed.headers.getSetCookie()[0]).toContain('Max-Age=0');
  });
});

describe('CSRF and origin', () => {
  it('refuses a request without X-CSRF: 1 with a JSON 403', async () => {
    for (const headers of [{ Origin: APP_ORIGIN }, { Origin: APP_ORIGIN, 'X-CSRF': 'yes' }] as Record<
      string,
      string
    >[]) {
      const response = await post('/session/token', headers);
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({
        error: 'invalid_request',
        error_description: 'Session requests need the header X-CSRF: 1',
      });
      // Readable by the page of an allowed origin, so that it can say why.
      expect(response.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    }
  });

  it('refuses an origin that is neither the service nor on the allowlist, and a request without one', async () => {
    for (const headers of [{ 'X-CSRF': '1', Origin: 'https://evil.example' }, { 'X-CSRF': '1' }] as Record<
      string,
      string
    >[]) {
      const response = await post('/session/swap', headers, { code: 'x' });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
    }
  });

  it("accepts the service's own origin", async () => {
    const response = await post('/session/token', {
      'X-CSRF': '1',
      Origin: new URL(stack.service.url).origin,
    });
    expect(response.status).toBe(401);
  });

  it('answers a preflight with credentialed CORS for an allowed origin, 403 for another', async () => {
    const preflight = (origin: string) =>
      fetch(`${stack.service.url}/session/token`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'x-csrf',
        },
      });
    const allowed = await preflight(APP_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('X-CSRF');
    const other = await preflight('https://evil.example');
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('keeps the token endpoints without credentialed CORS', async () => {
    const response = await fetch(`${stack.service.url}/refresh`, {
      method: 'OPTIONS',
      headers: { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'POST' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('GET /', () => {
  it('lists the session endpoints', async () => {
    const root = (await (await fetch(stack.service.url)).json()) as { endpoints: Record<string, string> };
    expect(root.endpoints).toMatchObject({
      'POST /session/swap': expect.stringContaining('cookie'),
      'POST /session/token': expect.any(String),
      'POST /session/logout': expect.any(String),
    });
  });
});

describe('start-up', () => {
  it('says which cookie and attributes the session endpoints use, on loopback too', () => {
    expect(stack.logs).toContainEqual(
      expect.objectContaining({
        cookieName: COOKIE,
        attributes: 'Path=/; Secure; HttpOnly; SameSite=Strict',
        msg: expect.stringContaining('also on http://127.0.0.1 and localhost'),
      }),
    );
  });
});

describe('without a login store', () => {
  it('logs out with 501 revocation_unavailable, and clears the cookie all the same', async () => {
    const storeless = await startStorelessService();
    try {
      const { code } = await authorize(storeless.accountsUrl);
      const at = (path: string, headers: Record<string, string>, body: Record<string, string> = {}) =>
        fetch(`${storeless.url}${path}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
          body: new URLSearchParams(body),
        });
      const own = { 'X-CSRF': '1', Origin: new URL(storeless.url).origin };
      const swapped = await at('/session/swap', own, { code, redirect_uri: REDIRECT_URI });
      const cookie = swapped.headers.getSetCookie()[0]?.split(';')[0] ?? '';
      const out = await at('/session/logout', { ...own, Cookie: cookie });
      expect(out.status).toBe(501);
      expect(((await out.json()) as { error: string }).error).toBe('revocation_unavailable');
      expect(out.headers.getSetCookie()[0]).toContain('Max-Age=0');
    } finally {
      await storeless.close();
    }
  });
});

describe('without sealing', () => {
  it('answers 501 session_unavailable', async () => {
    const unsealed = await startStack({ env: { ...UNSEALED, CORS_ORIGINS: APP_ORIGIN } });
    try {
      const response = await fetch(`${unsealed.service.url}/session/token`, {
        method: 'POST',
        headers: GOOD,
      });
      expect(response.status).toBe(501);
      expect(((await response.json()) as { error: string }).error).toBe('session_unavailable');
      expect(unsealed.logs).toContainEqual(expect.objectContaining({ unsealed: ['default'] }));
    } finally {
      await unsealed.close();
    }
  });
});
