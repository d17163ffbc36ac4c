/**
 * The session endpoints reuse the token endpoints' machinery (issue 15): per app (one app's cookie and
 * origins open no other app's session), the rate budgets, coalescing of concurrent refreshes, and
 * rotation with reuse detection, and key rotation. Over real sockets against the sandbox.
 */
import { describe, expect, it } from 'vitest';
import { tokenCalls } from './helpers/sandbox-control.js';
import {
  authorize,
  CLIENT_ID,
  CLIENT_SECRET,
  REDIRECT_URI,
  SECRET_A,
  SECRET_B,
  type Stack,
  stacksClosedAfterEach,
} from './helpers/stack.js';
import { testClock } from './helpers/tokens.js';

const ROOT_ORIGIN = 'http://127.0.0.1:5173';
const WEB_ORIGIN = 'http://127.0.0.1:5174';
const start = stacksClosedAfterEach();

function post(
  stack: Stack,
  path: string,
  headers: Record<string, string>,
  body: Record<string, string> = {},
) {
  return fetch(`${stack.service.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-CSRF': '1', ...headers },
    body: new URLSearchParams(body),
  });
}

async function signIn(stack: Stack, prefix: string, origin: string): Promise<string> {
  const { code } = await authorize(stack.accounts.url);
  const response = await post(
    stack,
    `${prefix}/session/swap`,
    { Origin: origin },
    { code, redirect_uri: REDIRECT_URI },
  );
  expect(response.status).toBe(200);
  return response.headers.getSetCookie()[0]?.split(';')[0] ?? '';
}

const errorOf = async (response: Response) => ((await response.json()) as { error: string }).error;

describe('per app', () => {
  it("refuses one app's cookie and one app's origin at another app's session endpoints", async () => {
    const stack = await start({
      env: { CORS_ORIGINS: ROOT_ORIGIN },
      configFile: {
        apps: {
          web: {
            clientId: CLIENT_ID,
            clientSecret: CLIENT_SECRET,
            redirectUris: [REDIRECT_URI],
            corsOrigins: [WEB_ORIGIN],
            encryptionSecrets: ['sealing-secret-of-the-web-app-0123456789abc'],
          },
        },
      },
    });
    const rootCookie = await signIn(stack, '', ROOT_ORIGIN);
    const webCookie = await signIn(stack, '/apps/web', WEB_ORIGIN);
    expect(
      (await post(stack, '/apps/web/session/token', { Origin: WEB_ORIGIN, Cookie: webCookie })).status,
    ).toBe(200);
    const crossed = await post(stack, '/apps/web/session/token', { Origin: WEB_ORIGIN, Cookie: rootCookie });
    expect(crossed.status).toBe(401);
    expect(await errorOf(crossed)).toBe('login_required');
    const otherOrigin = await post(stack, '/apps/web/session/token', {
      Origin: ROOT_ORIGIN,
      Cookie: webCookie,
    });
    expect(otherOrigin.status).toBe(403);
    expect((await post(stack, '/apps/nope/session/token', { Origin: WEB_ORIGIN })).status).toBe(404);
  });

  it('answers any other method with a JSON 405', async () => {
    const stack = await start({ env: { CORS_ORIGINS: ROOT_ORIGIN } });
    const response = await fetch(`${stack.service.url}/session/token`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST, OPTIONS');
    expect(await errorOf(response)).toBe('method_not_allowed');
  });
});

describe("the service's own origin", () => {
  it("is PUBLIC_URL's when it is set, not the one the request arrived on", async () => {
    const stack = await start({ env: { PUBLIC_URL: 'https://auth.example.com' } });
    const own = await post(stack, '/session/token', { Origin: 'https://auth.example.com' });
    expect(own.status).toBe(401);
    const arrivedOn = await post(stack, '/session/token', { Origin: new URL(stack.service.url).origin });
    expect(arrivedOn.status).toBe(403);
  });
});

describe('rate budgets', () => {
  it("spends /refresh's budget on /session/token, cached answers included", async () => {
    const stack = await start({ env: { CORS_ORIGINS: ROOT_ORIGIN, RATE_LIMIT_REFRESH_PER_MINUTE: '2' } });
    const cookie = await signIn(stack, '', ROOT_ORIGIN);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push((await post(stack, '/session/token', { Origin: ROOT_ORIGIN, Cookie: cookie })).status);
    }
    expect(statuses).toEqual([200, 200, 429]);
  });
});

describe('refreshes', () => {
  it('coalesces concurrent refreshes of one session into one Spotify call; with rotation, reuse ends the session, cached token too', async () => {
    const clock = testClock();
    const stack = await start({
      env: { CORS_ORIGINS: ROOT_ORIGIN, REFRESH_TOKEN_ROTATION: '1' },
      now: clock.now,
    });
    const cookie = await signIn(stack, '', ROOT_ORIGIN);
    clock.advance(3600 * 1000);
    const calls = await tokenCalls(stack.accounts.url);
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => post(stack, '/session/token', { Origin: ROOT_ORIGIN, Cookie: cookie })),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    const tokens = new Set(
      await Promise.all(
        answers.map(async (answer) => ((await answer.json()) as { access_token: string }).access_token),
      ),
    );
    expect(tokens.size).toBe(1);
    expect(await tokenCalls(stack.accounts.url)).toBe(calls + 1);

    // The rotated cookie refreshes on; the old one, presented again out of its grace, is reuse.
    const rotated = answers[0]?.headers.getSetCookie()[0]?.split(';')[0] ?? '';
    clock.advance(3600 * 1000);
    const again = await post(stack, '/session/token', { Origin: ROOT_ORIGIN, Cookie: rotated });
    expect(again.status).toBe(200);
    const newest = again.headers.getSetCookie()[0]?.split(';')[0] ?? '';
    const reused = await post(stack, '/session/token', { Origin: ROOT_ORIGIN, Cookie: cookie });
    expect(reused.status).toBe(400);
    expect(await errorOf(reused)).toBe('invalid_grant');
    expect(reused.headers.getSetCookie()[0]).toContain('Max-Age=0');
    // The reuse revoked the whole login: the newest cookie's cached access token is not handed out.
    const calls2 = await tokenCalls(stack.accounts.url);
    const revoked = await post(stack, '/session/token', { Origin: ROOT_ORIGIN, Cookie: newest });
    expect(revoked.status).toBe(400);
    expect(await revoked.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'The login was revoked: the user must sign in again',
    });
    expect(revoked.headers.getSetCookie()[0]).toContain('Max-Age=0');
    expect(await tokenCalls(stack.accounts.url)).toBe(calls2);
  });
});

describe('key rotation', () => {
  it('keeps a session signed in through ENCRYPTION_SECRET=new,old, and the new cookie is sealed with the new secret', async () => {
    const before = await start({ env: { CORS_ORIGINS: ROOT_ORIGIN, ENCRYPTION_SECRET: SECRET_A } });
    const cookie = await signIn(before, '', ROOT_ORIGIN);
    const shared = { sandbox: before.sandbox, listening: before.accounts };
    const rotating = await start({
      env: { CORS_ORIGINS: ROOT_ORIGIN, ENCRYPTION_SECRET: `${SECRET_B},${SECRET_A}` },
      accounts: shared,
    });
    expect((await post(rotating, '/session/token', { Origin: ROOT_ORIGIN, Cookie: cookie })).status).toBe(
      200,
    );
    const after = await start({
      env: { CORS_ORIGINS: ROOT_ORIGIN, ENCRYPTION_SECRET: SECRET_B },
      accounts: shared,
    });
    expect((await post(after, '/session/token', { Origin: ROOT_ORIGIN, Cookie: cookie })).status).toBe(401);
    const renewed = await signIn(rotating, '', ROOT_ORIGIN);
    expect((await post(after, '/session/token', { Origin: ROOT_ORIGIN, Cookie: renewed })).status).toBe(200);
  });
});
