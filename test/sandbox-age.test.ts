/**
 * POST /__sandbox/age: a login reaches its end (Spotify's six months) without waiting, and its refresh
 * tokens then answer as Spotify's do. Over a real socket, as a test in another process would use it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_AGE_SECONDS } from '../src/sandbox/age.js';
import {
  createSandbox,
  SANDBOX_CLIENT_ID,
  SANDBOX_CLIENT_SECRET,
  type SandboxOptions,
} from '../src/sandbox/index.js';
import { type Listening, listen } from './helpers/listen.js';

const REDIRECT = 'http://127.0.0.1:8888/callback';
const BASIC = `Basic ${btoa(`${SANDBOX_CLIENT_ID}:${SANDBOX_CLIENT_SECRET}`)}`;
const DAY = 86_400;
/** More than any six calendar months (181 to 184 days). */
const PAST_THE_END = 185 * DAY;

const running: Listening[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

async function start(options: Partial<SandboxOptions> = {}) {
  const sandbox = createSandbox({
    clients: [{ clientId: SANDBOX_CLIENT_ID, clientSecret: SANDBOX_CLIENT_SECRET, redirectUris: [REDIRECT] }],
    autoApprove: true,
    ...options,
  });
  const server = await listen(sandbox.app.fetch);
  running.push(server);
  const url = server.url;
  const token = (params: Record<string, string>) =>
    fetch(`${url}/api/token`, {
      method: 'POST',
      headers: { Authorization: BASIC, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params),
    });
  /** A login as from the consent page: its access and refresh token. */
  const login = async () => {
    const authorized = await fetch(
      `${url}/authorize?${new URLSearchParams({ client_id: SANDBOX_CLIENT_ID, response_type: 'code', redirect_uri: REDIRECT })}`,
      { redirect: 'manual' },
    );
    const code = new URL(authorized.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const answer = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    return (await answer.json()) as { access_token: string; refresh_token: string };
  };
  const refresh = async (refreshToken: string) => {
    const answer = await token({ grant_type: 'refresh_token', refresh_token: refreshToken });
    return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
  };
  const age = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}/__sandbox/age`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return { sandbox, url, token, login, refresh, age };
}

const EXPIRED = { error: 'invalid_grant', error_description: 'Refresh token expired' };

describe('POST /__sandbox/age', () => {
  it('ages a login named by its refresh token: past its end, the token answers invalid_grant', async () => {
    const { login, refresh, age } = await start();
    const { refresh_token } = await login();
    const before = Date.now();
    const answer = await age({ refreshToken: refresh_token, seconds: PAST_THE_END });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['aged', 'authorizedAt', 'refreshTokenExpiresAt', 'expired']);
    expect(body).toMatchObject({ aged: 1, expired: true });
    const authorizedAt = Date.parse(String(body.authorizedAt));
    expect(authorizedAt).toBeLessThanOrEqual(before - PAST_THE_END * 1000 + 1_000);
    expect(authorizedAt).toBeGreaterThan(before - PAST_THE_END * 1000 - 10_000);
    expect(await refresh(refresh_token)).toEqual({ status: 400, body: EXPIRED });
  });

  it('moves the end closer without reaching it: the token keeps refreshing until then', async () => {
    let clock = Date.UTC(2026, 0, 10);
    const { login, refresh, age } = await start({ now: () => clock });
    const { refresh_token } = await login();
    const answer = (await (await age({ refreshToken: refresh_token, seconds: 170 * DAY })).json()) as {
      refreshTokenExpiresAt: string;
      expired: boolean;
    };
    // Authorized on 2025-07-24 instead of 2026-01-10: six calendar months end on 2026-01-24.
    expect(answer).toEqual({
      aged: 1,
      authorizedAt: '2025-07-24T00:00:00.000Z',
      refreshTokenExpiresAt: '2026-01-24T00:00:00.000Z',
      expired: false,
    });
    expect((await refresh(refresh_token)).status).toBe(200);
    clock = Date.UTC(2026, 0, 24);
    expect(await refresh(refresh_token)).toEqual({ status: 400, body: EXPIRED });
  });

  it('ages a login named by an access token, which is what a client of a sealing service holds', async () => {
    const { login, refresh, age } = await start();
    const { access_token, refresh_token } = await login();
    const other = await login();
    expect(await (await age({ accessToken: access_token, seconds: PAST_THE_END })).json()).toMatchObject({
      aged: 1,
      expired: true,
    });
    expect(await refresh(refresh_token)).toEqual({ status: 400, body: EXPIRED });
    // Only that login: another user's goes on.
    expect((await refresh(other.refresh_token)).status).toBe(200);
  });

  it('ages every login with "all", each once however many tokens it has', async () => {
    const { login, refresh, age } = await start({ rotateRefreshTokens: true });
    const first = await login();
    const second = await login();
    // A rotation: two refresh tokens and two access tokens of the first login, one of them revoked.
    const rotated = (await refresh(first.refresh_token)).body.refresh_token as string;
    const answer = await age({ all: true, seconds: PAST_THE_END });
    expect(await answer.json()).toEqual({ aged: 2 });
    expect(await refresh(rotated)).toEqual({ status: 400, body: EXPIRED });
    expect(await refresh(second.refresh_token)).toEqual({ status: 400, body: EXPIRED });
  });

  it('keeps answering "expired" for a login aged far past its end, where old records are pruned', async () => {
    let clock = Date.UTC(2026, 0, 10);
    const { login, refresh, age } = await start({ now: () => clock });
    const { refresh_token } = await login();
    await age({ refreshToken: refresh_token, seconds: MAX_AGE_SECONDS });
    // Past the store's prune interval, with a new grant to make it prune.
    clock += 10 * 60_000;
    await login();
    expect(await refresh(refresh_token)).toEqual({ status: 400, body: EXPIRED });
  });

  it('refuses bad bodies with a 400 invalid_age that says what is wrong', async () => {
    const { login, token, age } = await start();
    const { refresh_token } = await login();
    const app = (await (await token({ grant_type: 'client_credentials' })).json()) as {
      access_token: string;
    };
    const cases: [unknown, RegExp][] = [
      ['{', /JSON object/],
      [[{ all: true, seconds: 1 }], /JSON object/],
      [{ refreshToken: refresh_token }, /seconds must be a whole number from 1 to 316224000/],
      [{ refreshToken: refresh_token, seconds: 0 }, /seconds/],
      [{ refreshToken: refresh_token, seconds: 1.5 }, /seconds/],
      [{ refreshToken: refresh_token, seconds: '100' }, /seconds/],
      [{ refreshToken: refresh_token, seconds: MAX_AGE_SECONDS + 1 }, /seconds/],
      [{ seconds: 10 }, /exactly one of refreshToken, accessToken or all/],
      [{ refreshToken: refresh_token, all: true, seconds: 10 }, /exactly one/],
      [{ all: false, seconds: 10 }, /all must be true/],
      [{ refreshToken: 42, seconds: 10 }, /refreshToken must be a non-empty string/],
      [{ refreshToken: 'AQnever-issued', seconds: 10 }, /not a refresh token this sandbox knows/],
      [{ accessToken: 'BQnever-issued', seconds: 10 }, /not an access token this sandbox knows/],
      [{ accessToken: app.access_token, seconds: 10 }, /app token \(client credentials\)/],
    ];
    for (const [body, problem] of cases) {
      const answer = await age(body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.headers.get('content-type')).toBe('application/json');
      const { error, error_description } = (await answer.json()) as Record<string, string>;
      expect(error, JSON.stringify(body)).toBe('invalid_age');
      expect(error_description, JSON.stringify(body)).toMatch(problem);
    }
  });

  it('answers only local clients, or the control token, as the other control endpoints do', async () => {
    const { sandbox, login, refresh, age } = await start({ peerAddress: () => '203.0.113.9' });
    const { refresh_token } = await login();
    const body = { refreshToken: refresh_token, seconds: PAST_THE_END };
    const refused = await age(body);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: 'forbidden' });
    expect((await age(body, { Authorization: 'Bearer wrong' })).status).toBe(403);
    expect((await refresh(refresh_token)).status).toBe(200);
    const allowed = await age(body, { Authorization: `Bearer ${sandbox.controlToken}` });
    expect(allowed.status).toBe(200);
    expect(await refresh(refresh_token)).toEqual({ status: 400, body: EXPIRED });
  });
});
