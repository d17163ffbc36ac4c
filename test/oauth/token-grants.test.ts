/**
 * POST /token is /swap and /refresh in the standard's words: rotation hands out new sealed tokens that
 * keep the granted scope (so the scope rule holds for every generation), a token that records no scope
 * refreshes whatever is asked, the metrics label the route, and no client secret reaches the logs.
 */
import { describe, expect, it } from 'vitest';
import {
  authorize,
  CLIENT_ID,
  postForm,
  REDIRECT_URI,
  type Stack,
  stacksClosedAfterEach,
  UNSEALED,
} from '../helpers/stack.js';

// Each test's stack is closed after it.
const start = stacksClosedAfterEach();
let stack: Stack;

async function exchange(target: Stack, fields: Record<string, string> = {}) {
  const { code } = await authorize(target.accounts.url);
  return postForm(`${target.service.url}/token`, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    client_id: CLIENT_ID,
    ...fields,
  });
}

const refresh = (target: Stack, refresh_token: string, scope?: string) =>
  postForm(`${target.service.url}/token`, {
    grant_type: 'refresh_token',
    refresh_token,
    client_id: CLIENT_ID,
    ...(scope === undefined ? {} : { scope }),
  });

describe('POST /token with rotation', () => {
  it('rotates on every refresh, each new token keeps the granted scope, and reuse revokes the login', async () => {
    stack = await start({ env: { REFRESH_TOKEN_ROTATION: 'true', REFRESH_TOKEN_REUSE_GRACE: '0' } });
    const first = ((await (await exchange(stack)).json()) as { refresh_token: string }).refresh_token;
    const rotated = await refresh(stack, first, 'user-read-email user-read-private');
    expect(rotated.status).toBe(200);
    const second = ((await rotated.json()) as { refresh_token: string }).refresh_token;
    expect(second).not.toBe(first);
    // The rotated token still knows the grant's scope: another one is refused.
    expect(await (await refresh(stack, second, 'streaming')).json()).toMatchObject({
      error: 'invalid_scope',
    });
    // The first token again, out of its grace: reuse, and the whole login is revoked.
    expect((await refresh(stack, first)).status).toBe(400);
    expect((await refresh(stack, second)).status).toBe(400);
  });
});

describe('POST /token with a token that records no scope', () => {
  it("refreshes whatever scope is asked: the check is skipped, not guessed (Spotify's own, unsealed, token)", async () => {
    stack = await start({ env: UNSEALED });
    const { refresh_token } = (await (await exchange(stack)).json()) as { refresh_token: string };
    expect(refresh_token.startsWith('sts')).toBe(false);
    expect((await refresh(stack, refresh_token, 'streaming')).status).toBe(200);
  });
});

describe('POST /token, metrics and logs', () => {
  it('labels requests with the /token route and the upstream calls with their grant type', async () => {
    stack = await start();
    expect((await exchange(stack)).status).toBe(200);
    const metrics = await (await fetch(`${stack.service.url}/metrics`)).text();
    expect(metrics).toMatch(/token_swap_http_requests_total\{route="\/token",method="POST",status="200"\} 1/);
    expect(metrics).toMatch(
      /token_swap_upstream_requests_total\{grant="authorization_code",outcome="ok"\} 1/,
    );
  });

  it('logs no client secret, sent in the body or in HTTP Basic', async () => {
    stack = await start();
    const secret = 'the-secret-the-app-should-not-have';
    expect((await exchange(stack, { client_secret: secret })).status).toBe(401);
    const { code } = await authorize(stack.accounts.url);
    const basic = await postForm(
      `${stack.service.url}/token`,
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI },
      { Authorization: `Basic ${btoa(`${CLIENT_ID}:${secret}`)}` },
    );
    expect(basic.status).toBe(401);
    expect(stack.rawLogs()).not.toContain(secret);
    expect(stack.rawLogs()).not.toContain(btoa(`${CLIENT_ID}:${secret}`));
  });
});
