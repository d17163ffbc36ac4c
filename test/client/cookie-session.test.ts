/**
 * The kit's cookie session against the real service and sandbox over sockets. Node's fetch keeps no
 * cookies, so `jar` plays the browser's part (the cookie for credentialed calls, the Origin the browser
 * sends); test/demo-cookie.test.ts runs the same kit in Chromium, where the browser does it itself.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createCookieSession,
  LoginRequiredError,
  type SignInNotice,
  SwapServiceError,
} from '../../src/client/index.js';
import { type Listening, listen } from '../helpers/listen.js';
import { tokenCalls } from '../helpers/sandbox-control.js';
import { authorize, REDIRECT_URI, type Stack, startStack } from '../helpers/stack.js';
import { testClock } from '../helpers/tokens.js';

const clock = testClock();
let stack: Stack;
const peers: Listening[] = [];

beforeAll(async () => {
  stack = await startStack({ now: clock.now });
});
afterAll(() => stack?.close());
afterEach(async () => {
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
});

interface Sent {
  path: string;
  csrf: string | null;
  credentials: RequestCredentials | undefined;
}

/** A browser's share of the work: one cookie, sent with credentialed calls, and the page's Origin. */
function jar(origin = stack.service.url) {
  const state = { cookie: undefined as string | undefined, sent: [] as Sent[] };
  const fetchWithJar: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('Origin', origin);
    if (state.cookie && init?.credentials === 'include') headers.set('Cookie', state.cookie);
    state.sent.push({
      path: new URL(String(input)).pathname,
      csrf: headers.get('x-csrf'),
      credentials: init?.credentials,
    });
    const response = await fetch(input, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0] ?? '';
      state.cookie = pair.endsWith('=') ? undefined : pair;
    }
    return response;
  };
  return { state, fetch: fetchWithJar };
}

async function signedIn(browser = jar(), onSignInNeeded?: (notice: SignInNotice) => void) {
  const session = createCookieSession({
    swapUrl: stack.service.url,
    fetch: browser.fetch,
    now: clock.now,
    onSignInNeeded,
  });
  const { code } = await authorize(stack.accounts.url);
  const tokens = await session.swap(code, { redirectUri: REDIRECT_URI });
  return { session, tokens, browser };
}

describe('cookie session', () => {
  it('signs in through /session/swap, keeping no refresh token, with the cookie and X-CSRF on every call', async () => {
    const { tokens, browser } = await signedIn();
    expect(tokens.refreshToken).toBeUndefined();
    expect(tokens.accessToken).toEqual(expect.any(String));
    expect(browser.state.cookie).toMatch(/^__Host-token-swap=tsc1\./);
    expect(browser.state.sent).toEqual([{ path: '/session/swap', csrf: '1', credentials: 'include' }]);
  });

  it('answers from memory, and after a reload coalesces concurrent callers into one /session/token without a Spotify call', async () => {
    const { session, tokens, browser } = await signedIn();
    const spotifyCalls = await tokenCalls(stack.accounts.url);
    expect(await Promise.all([session.getAccessToken(), session.accessToken()])).toEqual([
      tokens.accessToken,
      tokens.accessToken,
    ]);
    expect(browser.state.sent.map((sent) => sent.path)).toEqual(['/session/swap']);

    // A reload: a new session, nothing in memory, the same cookie.
    const reloaded = createCookieSession({
      swapUrl: stack.service.url,
      fetch: browser.fetch,
      now: clock.now,
    });
    const answers = await Promise.all(Array.from({ length: 20 }, () => reloaded.getAccessToken()));
    expect(new Set(answers)).toEqual(new Set([tokens.accessToken]));
    expect(browser.state.sent.filter((sent) => sent.path === '/session/token')).toHaveLength(1);
    expect(await tokenCalls(stack.accounts.url)).toBe(spotifyCalls);
    const endsAt = tokens.refreshTokenExpiresAt ?? 0;
    expect(Math.abs(((await reloaded.signInNeededBy()) ?? 0) - endsAt)).toBeLessThanOrEqual(1000);
  });

  it('without a cookie: LoginRequiredError not_logged_in, and signInNeededBy undefined', async () => {
    const session = createCookieSession({ serviceUrl: stack.service.url, fetch: jar().fetch });
    await expect(session.getAccessToken()).rejects.toMatchObject({
      name: 'LoginRequiredError',
      code: 'not_logged_in',
    });
    expect(await session.signInNeededBy()).toBeUndefined();
    // The service cannot tell "no session" from a signed-out one: it answers 200 and a cleared cookie.
    expect(await session.logout()).toEqual({ outcome: 'revoked' });
  });

  it('logs out: revoked, the cookie cleared, and the old cookie refused once its cached token is stale', async () => {
    const { session, browser } = await signedIn();
    const copied = browser.state.cookie;
    expect(await session.logout()).toEqual({ outcome: 'revoked' });
    expect(browser.state.cookie).toBeUndefined();
    await expect(session.getAccessToken()).rejects.toMatchObject({ code: 'not_logged_in' });

    clock.advance(3600 * 1000);
    browser.state.cookie = copied;
    const replay = createCookieSession({ swapUrl: stack.service.url, fetch: browser.fetch, now: clock.now });
    const refused = await replay.getAccessToken().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LoginRequiredError);
    expect(refused).toMatchObject({ code: 'refresh_token_rejected' });
    expect(browser.state.cookie).toBeUndefined();
  });

  it('ends at the login end: LoginRequiredError expired, and onSignInNeeded told once it ended', async () => {
    const notices: SignInNotice[] = [];
    const { session, tokens } = await signedIn(jar(), (notice) => notices.push(notice));
    clock.advance((tokens.refreshTokenExpiresAt ?? 0) - clock.now() + 1000);
    const ended = await session.getAccessToken().catch((error: unknown) => error);
    expect(ended).toMatchObject({ name: 'LoginRequiredError', code: 'expired' });
    expect((ended as Error).message).toMatch(/^The login expired on /);
    expect(notices.map((notice) => notice.kind)).toEqual(['ended']);
  });

  it('says unreachable when logout gets no answer, and forgets the token in memory anyway', async () => {
    const { session, browser } = await signedIn();
    const down = createCookieSession({ swapUrl: 'http://127.0.0.1:9', fetch: browser.fetch });
    expect((await down.logout()).outcome).toBe('unreachable');
    expect((await session.logout()).outcome).toBe('revoked');
  });
});

describe('cookie session against a hostile service', () => {
  async function hostile(answer: () => Response) {
    const peer = await listen(answer);
    peers.push(peer);
    return createCookieSession({ swapUrl: peer.url });
  }

  it('drops a refresh token the service should not have sent', async () => {
    const session = await hostile(() =>
      Response.json({ access_token: 'at', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt' }),
    );
    const tokens = await session.swap('code', { redirectUri: REDIRECT_URI });
    expect(tokens.refreshToken).toBeUndefined();
    expect(JSON.stringify(tokens)).not.toContain('rt');
  });

  it('says unsupported for a logout where the service keeps no revocations (501 revocation_unavailable)', async () => {
    const session = await hostile(() =>
      Response.json(
        { error: 'revocation_unavailable', error_description: 'This deployment keeps no revocations' },
        { status: 501 },
      ),
    );
    const result = await session.logout();
    expect(result).toMatchObject({
      outcome: 'unsupported',
      error: { error: 'revocation_unavailable', status: 501 },
    });
  });

  it('refuses a redirect and a malformed success', async () => {
    const redirecting = await hostile(
      () => new Response(null, { status: 302, headers: { Location: 'http://127.0.0.1:9/' } }),
    );
    await expect(redirecting.getAccessToken()).rejects.toMatchObject({ error: 'invalid_response' });
    const malformed = await hostile(() => Response.json({ access_token: 42 }));
    const error = await malformed.getAccessToken().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SwapServiceError);
    expect(error).toMatchObject({ error: 'invalid_response' });
  });
});

describe('apiFetch', () => {
  it('calls {swapUrl}/spotify/v1/... with the cookie and X-CSRF, and hands back the answer as it is', async () => {
    const seen: { path: string; csrf: string | null; method: string }[] = [];
    const peer = await listen((request) => {
      seen.push({
        path: new URL(request.url).pathname,
        csrf: request.headers.get('x-csrf'),
        method: request.method,
      });
      return Response.json(
        { error: { status: 429, message: 'slow down' } },
        { status: 429, headers: { 'Retry-After': '7' } },
      );
    });
    peers.push(peer);
    const browser = jar(peer.url);
    const session = createCookieSession({ swapUrl: `${peer.url}/apps/web`, fetch: browser.fetch });
    const answer = await session.apiFetch('/v1/me/player/play', { method: 'PUT' });
    expect([answer.status, answer.headers.get('retry-after')]).toEqual([429, '7']);
    expect(seen).toEqual([{ path: '/apps/web/spotify/v1/me/player/play', csrf: '1', method: 'PUT' }]);
    expect(browser.state.sent.at(-1)?.credentials).toBe('include');
  });

  it('refuses a path that leaves the proxy, before sending anything', async () => {
    const browser = jar();
    const session = createCookieSession({ swapUrl: stack.service.url, fetch: browser.fetch });
    for (const path of [
      '/session/token',
      '/v1/../../session/token',
      '/v1/%2e%2e/%2e%2e/session/token',
      '//evil.example/v1/me',
    ]) {
      await expect(session.apiFetch(path)).rejects.toThrow(TypeError);
    }
    expect(browser.state.sent).toEqual([]);
  });
});
