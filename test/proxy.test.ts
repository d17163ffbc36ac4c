/**
 * The Web API proxy (issue 15, docs/sessions.md "Web API proxy") over real sockets against the
 * sandbox's Web API: an allowlisted call goes upstream with the session's access token and nothing
 * of the page's cookie or Authorization; Spotify's status, Retry-After and body come back; anything
 * off the list, without X-CSRF, from a foreign origin or without a session is refused as JSON; a
 * token near expiry is refreshed first and the cookie updated. Chromium's side is
 * test/proxy-browser.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebApiRequestSummary } from '../src/sandbox/index.js';
import { metric } from './helpers/metrics.js';
import { injectFault, tokenCalls } from './helpers/sandbox-control.js';
import {
  authorize,
  CLIENT_ID,
  CLIENT_SECRET,
  REDIRECT_URI,
  SECRET_B,
  type Stack,
  startStack,
  UNSEALED,
} from './helpers/stack.js';
import { testClock } from './helpers/tokens.js';

const APP_ORIGIN = 'http://127.0.0.1:5173';
const COOKIE = '__Host-token-swap';
const GOOD = { Origin: APP_ORIGIN, 'X-CSRF': '1' };
const SCOPES =
  'user-read-email user-read-private user-read-playback-state user-modify-playback-state user-top-read';
const ALLOWLIST =
  'GET /v1/me, GET /v1/me/player, PUT /v1/me/player/play, GET /v1/me/top/tracks, GET /v1/artists/{id}';

let stack: Stack;
const clock = testClock();
beforeAll(async () => {
  stack = await startStack({
    env: { CORS_ORIGINS: APP_ORIGIN, API_PROXY_PATHS: ALLOWLIST },
    now: clock.now,
    configFile: {
      apps: {
        web: {
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          redirectUris: [REDIRECT_URI],
          encryptionSecrets: [SECRET_B],
          corsOrigins: [APP_ORIGIN],
          apiProxyPaths: ['GET /v1/me/top/tracks'],
        },
      },
    },
  });
});
afterAll(() => stack?.close());

/** A session through POST /session/swap: its Cookie header and its access token. */
async function signIn(on: Stack = stack, prefix = ''): Promise<{ cookie: string; accessToken: string }> {
  const { code } = await authorize(on.accounts.url, { scope: SCOPES });
  const response = await fetch(`${on.service.url}${prefix}/session/swap`, {
    method: 'POST',
    headers: { ...GOOD, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ code, redirect_uri: REDIRECT_URI }),
  });
  expect(response.status).toBe(200);
  const [line = ''] = response.headers.getSetCookie();
  const body = (await response.json()) as { access_token: string };
  return { cookie: line.split(';', 1)[0] ?? '', accessToken: body.access_token };
}

function proxied(path: string, init: RequestInit & { headers?: Record<string, string> } = {}, on = stack) {
  return fetch(`${on.service.url}${path}`, { ...init, headers: { ...GOOD, ...init.headers } });
}

async function lastUpstream(on = stack): Promise<WebApiRequestSummary | undefined> {
  const stats = (await (await fetch(`${on.accounts.url}/__sandbox/stats`)).json()) as {
    lastWebApiRequest?: WebApiRequestSummary;
  };
  return stats.lastWebApiRequest;
}

async function webApiCalls(on = stack): Promise<number> {
  const stats = (await (await fetch(`${on.accounts.url}/__sandbox/stats`)).json()) as {
    webApiRequests: number;
  };
  return stats.webApiRequests;
}

describe('an allowlisted call', () => {
  it("is forwarded with the session's token, and Spotify's answer comes back with credentialed CORS", async () => {
    const { cookie } = await signIn();
    const response = await proxied('/spotify/v1/me', { headers: { Cookie: cookie } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: expect.any(String), type: 'user' });
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it("never forwards the cookie, the page's Authorization or identifying headers upstream", async () => {
    const { cookie } = await signIn();
    const response = await proxied('/spotify/v1/me', {
      headers: {
        Cookie: cookie,
        Authorization: 'Bearer the-pages-own-token',
        'X-Forwarded-For': '203.0.113.9',
        'X-Request-Id': 'page-request-1',
        Referer: `${APP_ORIGIN}/player`,
        'Accept-Language': 'sv-SE',
      },
    });
    // 200: the sandbox got the session's token; the page's would have been a 401.
    expect(response.status).toBe(200);
    const upstream = await lastUpstream();
    expect(upstream?.path).toBe('/v1/me');
    expect(upstream?.headerNames).toContain('authorization');
    expect(upstream?.headerNames).toContain('accept-language');
    for (const name of ['cookie', 'origin', 'referer', 'x-csrf', 'x-forwarded-for', 'x-request-id']) {
      expect(upstream?.headerNames).not.toContain(name);
    }
  });

  it('passes the query string through and matches a {id} placeholder', async () => {
    const { cookie } = await signIn();
    const response = await proxied('/spotify/v1/me/top/tracks?limit=2&offset=1&time_range=short_term', {
      headers: { Cookie: cookie },
    });
    expect(response.status).toBe(200);
    const page = (await response.json()) as {
      limit: number;
      offset: number;
      items: unknown[];
      total: number;
    };
    expect(page).toMatchObject({ limit: 2, offset: 1, total: 5 });
    expect(page.items).toHaveLength(2);
    expect((await lastUpstream())?.queryParams).toEqual(['limit', 'offset', 'time_range']);
    // On the list as GET /v1/artists/{id}: forwarded (the sandbox has no such endpoint, and says so).
    const artist = await proxied('/spotify/v1/artists/0sandboxartist00000001', {
      headers: { Cookie: cookie },
    });
    expect((await lastUpstream())?.path).toBe('/v1/artists/0sandboxartist00000001');
    expect(artist.status).toBe(404);
    expect(await artist.json()).toEqual({ error: { status: 404, message: 'Service not found' } });
  });

  it('forwards a PUT with its body: 404 NO_ACTIVE_DEVICE, then 204 on the device, then the player state', async () => {
    const { cookie } = await signIn();
    const nothing = await proxied('/spotify/v1/me/player', { headers: { Cookie: cookie } });
    expect(nothing.status).toBe(204);
    expect(await nothing.text()).toBe('');
    const play = (query: string) =>
      proxied(`/spotify/v1/me/player/play${query}`, {
        method: 'PUT',
        headers: { Cookie: cookie, 'Content-Type': 'application/json' },
        body: JSON.stringify({ uris: ['spotify:track:0sandboxtrack000000003'] }),
      });
    const noDevice = await play('');
    expect(noDevice.status).toBe(404);
    expect(await noDevice.json()).toEqual({
      error: {
        status: 404,
        message: 'Player command failed: No active device found',
        reason: 'NO_ACTIVE_DEVICE',
      },
    });
    expect((await play('?device_id=sandbox-device-0001')).status).toBe(204);
    const state = await proxied('/spotify/v1/me/player', { headers: { Cookie: cookie } });
    expect(await state.json()).toMatchObject({
      is_playing: true,
      item: { uri: 'spotify:track:0sandboxtrack000000003' },
      device: { id: 'sandbox-device-0001' },
    });
  });

  it("passes Spotify's 429 back with its Retry-After and body", async () => {
    const { cookie } = await signIn();
    await injectFault(stack.accounts.url, {
      kind: 'rate-limit',
      retryAfter: 7,
      reason: 'QUOTA_EXCEEDED',
      target: 'web-api',
    });
    const response = await proxied('/spotify/v1/me', { headers: { Cookie: cookie } });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await response.json()).toEqual({
      error: { status: 429, message: 'API rate limit exceeded', reason: 'QUOTA_EXCEEDED' },
    });
  });

  it('is a JSON 504 when the Web API does not answer in time, and 502 when the connection drops', async () => {
    const { cookie } = await signIn();
    // UPSTREAM_TIMEOUT_MS is 1000 in the stack.
    await injectFault(stack.accounts.url, { kind: 'slow', delayMs: 1_500, target: 'web-api' });
    const slow = await proxied('/spotify/v1/me', { headers: { Cookie: cookie } });
    expect(slow.status).toBe(504);
    expect(await slow.json()).toEqual({
      error: 'upstream_timeout',
      error_description: 'The Spotify Web API did not answer in time',
    });
    await injectFault(stack.accounts.url, { kind: 'drop', target: 'web-api' });
    const dropped = await proxied('/spotify/v1/me', { headers: { Cookie: cookie } });
    expect(dropped.status).toBe(502);
    expect(await dropped.json()).toEqual({
      error: 'upstream_error',
      error_description: 'The Spotify Web API could not be reached',
    });
  });

  it('refreshes first when the cached token has a minute or less, and updates the cookie', async () => {
    const { cookie, accessToken } = await signIn();
    const calls = await tokenCalls(stack.accounts.url);
    clock.advance((3600 - 60) * 1000);
    const response = await proxied('/spotify/v1/me', { headers: { Cookie: cookie } });
    expect(response.status).toBe(200);
    expect(await tokenCalls(stack.accounts.url)).toBe(calls + 1);
    const [line = ''] = response.headers.getSetCookie();
    expect(line).toMatch(new RegExp(`^${COOKIE}=tsc1\\.`));
    expect(line).toContain('HttpOnly');
    // The refreshed cookie's token is used from now on: no further refresh.
    const next = line.split(';', 1)[0] ?? '';
    expect(next).not.toBe(cookie);
    expect((await proxied('/spotify/v1/me', { headers: { Cookie: next } })).status).toBe(200);
    expect(await tokenCalls(stack.accounts.url)).toBe(calls + 1);
    expect(stack.rawLogs()).not.toContain(accessToken);
  });

  it('logs one line per call with the rule, never the token, the cookie or the query', async () => {
    const { cookie } = await signIn();
    await proxied('/spotify/v1/artists/0sandboxartist00000002?market=SE', { headers: { Cookie: cookie } });
    expect(stack.logs).toContainEqual(
      expect.objectContaining({ msg: 'proxied a Web API call', rule: 'GET /v1/artists/{id}', status: 404 }),
    );
    const raw = stack.rawLogs();
    expect(raw).not.toContain(cookie.split('=')[1]);
    expect(raw).not.toContain('market=SE');
    expect(
      await metric(stack, 'token_swap_http_requests_total', { route: '/spotify/*', status: '200' }),
    ).toBeGreaterThan(0);
  });
});

describe('refusals', () => {
  it('answers 413 for a body over 64 KiB, without calling Spotify', async () => {
    const { cookie } = await signIn();
    const before = await webApiCalls();
    const response = await proxied('/spotify/v1/me/player/play', {
      method: 'PUT',
      headers: { Cookie: cookie, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        uris: Array.from({ length: 2_000 }, (_, i) => `spotify:track:${i}`.padEnd(40, 'x')),
      }),
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
    expect(await webApiCalls()).toBe(before);
  });

  it('answers 400 invalid_grant and clears the cookie for a login that was logged out', async () => {
    const { cookie } = await signIn();
    const out = await proxied('/session/logout', { method: 'POST', headers: { Cookie: cookie } });
    expect(out.status).toBe(200);
    const before = await webApiCalls();
    const replayed = await proxied('/spotify/v1/me', { headers: { Cookie: cookie } });
    expect(replayed.status).toBe(400);
    expect(((await replayed.json()) as { error: string }).error).toBe('invalid_grant');
    expect(replayed.headers.getSetCookie()[0]).toContain('Max-Age=0');
    expect(await webApiCalls()).toBe(before);
  });

  it('answers 403 path_not_allowed for a path or a method off the list, without calling Spotify', async () => {
    const { cookie } = await signIn();
    const before = await webApiCalls();
    for (const [method, path] of [
      ['GET', '/spotify/v1/me/following'],
      ['DELETE', '/spotify/v1/me'],
      ['GET', '/spotify/v1/me/player/'],
      ['GET', '/spotify/v1/artists/a%2Fb'],
      ['GET', '/spotify/v1/artists/x/albums'],
      ['GET', '/spotify/v2/me'],
    ] as const) {
      const response = await proxied(path, { method, headers: { Cookie: cookie } });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(await response.json()).toEqual({
        error: 'path_not_allowed',
        error_description:
          "This method and path are not on the app's Web API proxy allowlist (API_PROXY_PATHS)",
      });
    }
    expect(await webApiCalls()).toBe(before);
  });

  it('answers 403 without X-CSRF: 1 and for a foreign origin, 401 without a cookie', async () => {
    const { cookie } = await signIn();
    const noCsrf = await fetch(`${stack.service.url}/spotify/v1/me`, {
      headers: { Origin: APP_ORIGIN, Cookie: cookie },
    });
    expect(noCsrf.status).toBe(403);
    expect(await noCsrf.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Session requests need the header X-CSRF: 1',
    });
    const foreign = await fetch(`${stack.service.url}/spotify/v1/me`, {
      headers: { Origin: 'https://evil.example', 'X-CSRF': '1', Cookie: cookie },
    });
    expect(foreign.status).toBe(403);
    const anonymous = await proxied('/spotify/v1/me');
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: string }).error).toBe('login_required');
  });

  it('answers a GET without Origin from a page of its own (Sec-Fetch-Site: same-origin), and refuses one from elsewhere or that says nothing', async () => {
    // Browsers send no Origin on a same-origin GET: the demo's proxy tab, a page the service serves.
    const { cookie } = await signIn();
    const get = (headers: Record<string, string>) =>
      fetch(`${stack.service.url}/spotify/v1/me`, { headers: { 'X-CSRF': '1', Cookie: cookie, ...headers } });
    const own = await get({ 'Sec-Fetch-Site': 'same-origin' });
    expect(own.status).toBe(200);
    const refusal = {
      error: 'invalid_request',
      error_description: "Session requests need an Origin that is the service or on the app's CORS allowlist",
    };
    for (const site of ['same-site', 'cross-site', 'none']) {
      const other = await get({ 'Sec-Fetch-Site': site });
      expect([site, other.status, await other.json()]).toEqual([site, 403, refusal]);
    }
    const silent = await get({});
    expect([silent.status, await silent.json()]).toEqual([403, refusal]);
  });

  it('answers a preflight for PUT with credentialed CORS', async () => {
    const response = await fetch(`${stack.service.url}/spotify/v1/me/player/play`, {
      method: 'OPTIONS',
      headers: {
        Origin: APP_ORIGIN,
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'x-csrf, content-type',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-methods')).toContain('PUT');
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
  });
});

describe('per app', () => {
  it("serves each app's own allowlist under /apps/{name}/spotify", async () => {
    const { cookie } = await signIn(stack, '/apps/web');
    const top = await proxied('/apps/web/spotify/v1/me/top/tracks?limit=1', { headers: { Cookie: cookie } });
    expect(top.status).toBe(200);
    // On the environment's app's list, not on this one's.
    const me = await proxied('/apps/web/spotify/v1/me', { headers: { Cookie: cookie } });
    expect(me.status).toBe(403);
    // The other app's cookie does not open at the root.
    const root = await proxied('/spotify/v1/me/top/tracks', { headers: { Cookie: cookie } });
    expect(root.status).toBe(401);
  });
});

describe('start-up', () => {
  it("logs each app's allowlist and where it sends it", () => {
    expect(stack.logs).toContainEqual(
      expect.objectContaining({
        app: 'web',
        apiUrl: stack.accounts.url,
        allow: ['GET /v1/me/top/tracks'],
        msg: 'Web API proxy: these calls are forwarded',
      }),
    );
  });
});

describe('GET /', () => {
  it("names each app's proxy and what it allows", async () => {
    const root = (await (await fetch(stack.service.url)).json()) as {
      apps: Record<string, { proxy?: string }>;
    };
    expect(root.apps.default?.proxy).toBe(`/spotify/v1/...: ${ALLOWLIST}`);
    expect(root.apps.web?.proxy).toBe('/apps/web/spotify/v1/...: GET /v1/me/top/tracks');
  });
});

describe('a service without the proxy, or without sealing, or with a small budget', () => {
  let other: Stack | undefined;
  afterAll(() => other?.close());

  it('answers 404 JSON under /spotify without API_PROXY_PATHS', async () => {
    other = await startStack({ env: { CORS_ORIGINS: APP_ORIGIN } });
    const response = await proxied('/spotify/v1/me', {}, other);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: string }).error).toBe('not_found');
    await other.close();
    other = undefined;
  });

  it('answers 501 session_unavailable for an app that does not seal', async () => {
    other = await startStack({
      env: { ...UNSEALED, CORS_ORIGINS: APP_ORIGIN, API_PROXY_PATHS: 'GET /v1/me' },
    });
    const response = await proxied('/spotify/v1/me', {}, other);
    expect(response.status).toBe(501);
    expect(((await response.json()) as { error: string }).error).toBe('session_unavailable');
    await other.close();
    other = undefined;
  });

  it('spends a budget of its own, as large as the refresh budget, and answers 429 past it', async () => {
    other = await startStack({
      env: { CORS_ORIGINS: APP_ORIGIN, API_PROXY_PATHS: 'GET /v1/me', RATE_LIMIT_REFRESH_PER_MINUTE: '2' },
    });
    const { cookie } = await signIn(other);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push((await proxied('/spotify/v1/me', { headers: { Cookie: cookie } }, other)).status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    // Its own: the session's refreshes still have their budget.
    const token = await proxied('/session/token', { method: 'POST', headers: { Cookie: cookie } }, other);
    expect(token.status).toBe(200);
  });
});

describe('upstream unreachable', () => {
  let other: Stack;
  beforeAll(async () => {
    // Port 9 (discard), where nothing on this machine listens: the connection is refused. (A port
    // closed just before could be handed to the sandbox or the service this stack starts.)
    other = await startStack({
      env: { CORS_ORIGINS: APP_ORIGIN, API_PROXY_PATHS: 'GET /v1/me', SPOTIFY_API_URL: 'http://127.0.0.1:9' },
    });
  });
  afterAll(() => other?.close());

  it('is a JSON 502 when the connection is refused, never a stack trace', async () => {
    const { cookie } = await signIn(other);
    const response = await proxied('/spotify/v1/me', { headers: { Cookie: cookie } }, other);
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({
      error: 'upstream_error',
      error_description: 'The Spotify Web API could not be reached',
    });
  });
});
