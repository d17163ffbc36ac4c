/**
 * Rotation with reuse detection (issue 13, RFC 9700 §4.14.2, docs/sealed-tokens.md): with
 * REFRESH_TOKEN_ROTATION=1 every refresh hands out the next generation; the immediate predecessor within
 * the grace gets its first answer again; any older generation, or the predecessor after the grace,
 * revokes the whole login. Against the sandbox, with the service's clock injected.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { metric } from './helpers/metrics.js';
import { tokenCalls } from './helpers/sandbox-control.js';
import { type Stack, startStack } from './helpers/stack.js';
import { login, refresh, revoke, testClock } from './helpers/tokens.js';

const REUSED = 'The login was revoked because a refresh token was used twice: the user must sign in again';

const stacks: Stack[] = [];
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((stack) => stack.close()));
});

async function rotating(env: Record<string, string> = {}) {
  const clock = testClock();
  const stack = await startStack({ env: { REFRESH_TOKEN_ROTATION: '1', ...env }, now: clock.now });
  stacks.push(stack);
  return { stack, clock };
}

/** Refreshes and returns the new token, which rotation always hands out. */
async function next(stack: Stack, token: string): Promise<string> {
  const answered = await refresh(stack, token);
  expect(answered.status).toBe(200);
  expect(answered.body.refresh_token).toEqual(expect.stringMatching(/^sts2\./));
  expect(answered.body.refresh_token).not.toBe(token);
  return String(answered.body.refresh_token);
}

describe('REFRESH_TOKEN_ROTATION=1', () => {
  it('hands out a new refresh token on every refresh, generation after generation', async () => {
    const { stack } = await rotating();
    let token = (await login(stack)).refreshToken;
    for (let i = 0; i < 4; i += 1) token = await next(stack, token);
    expect(await metric(stack, 'token_swap_refresh_resealed_total', { reason: 'rotation' })).toBe(4);
  });

  it('gives the predecessor, within the grace, the very answer its first use got, without calling Spotify', async () => {
    const { stack, clock } = await rotating();
    const first = (await login(stack)).refreshToken;
    const answered = await refresh(stack, first);
    const calls = await tokenCalls(stack.accounts.url);
    clock.advance(29_000);
    const again = await refresh(stack, first);
    expect(again).toEqual(answered);
    expect(await tokenCalls(stack.accounts.url)).toBe(calls);
    expect(await metric(stack, 'token_swap_refresh_replayed_total')).toBe(1);
    // The login goes on with the token both answers handed out.
    await next(stack, String(answered.body.refresh_token));
  });

  it('answers two parallel refreshes of one token alike (two tabs), and the login goes on', async () => {
    const { stack } = await rotating();
    const first = (await login(stack)).refreshToken;
    const [a, b] = await Promise.all([refresh(stack, first), refresh(stack, first)]);
    expect(a.status).toBe(200);
    expect(b).toEqual(a);
    await next(stack, String(a.body.refresh_token));
  });

  it('treats the predecessor after the grace as reuse: the login is revoked, the newest token too', async () => {
    const { stack, clock } = await rotating({ REFRESH_TOKEN_REUSE_GRACE: '10' });
    const first = (await login(stack)).refreshToken;
    const second = await next(stack, first);
    clock.advance(10_000);
    const calls = await tokenCalls(stack.accounts.url);
    expect(await refresh(stack, first)).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: REUSED },
    });
    expect((await refresh(stack, second)).body).toMatchObject({ error: 'invalid_grant' });
    expect(await tokenCalls(stack.accounts.url)).toBe(calls);
    expect(await metric(stack, 'token_swap_refresh_refused_total', { reason: 'reuse' })).toBe(1);
  });

  it('treats any older generation as reuse at once, within the grace too (only the predecessor has one)', async () => {
    const { stack } = await rotating();
    const first = (await login(stack)).refreshToken;
    const second = await next(stack, first);
    const third = await next(stack, second);
    expect((await refresh(stack, first)).body).toEqual({ error: 'invalid_grant', error_description: REUSED });
    expect((await refresh(stack, third)).status).toBe(400);
    expect((await refresh(stack, second)).status).toBe(400);
  });

  it('logs the reuse as a warning with app, login and generations, never a token', async () => {
    const { stack } = await rotating();
    const first = (await login(stack)).refreshToken;
    const second = await next(stack, first);
    const third = await next(stack, second);
    await refresh(stack, first);
    const warning = stack.logs.find(
      (line) => line.msg === 'a refresh token was used twice: revoked its login',
    );
    expect(warning).toMatchObject({
      level: 40,
      app: 'default',
      login: expect.stringMatching(/^[\w-]{8,}$/),
      presentedGeneration: 0,
      newestGeneration: 2,
    });
    const raw = stack.rawLogs();
    for (const token of [first, second, third]) expect(raw).not.toContain(token.slice(5, 40));
  });

  it('revokes every generation with /revoke of any one of them', async () => {
    const { stack } = await rotating();
    const first = (await login(stack)).refreshToken;
    const second = await next(stack, first);
    const third = await next(stack, second);
    expect(await revoke(stack, first)).toEqual({ status: 200, body: {} });
    expect((await refresh(stack, third)).body).toEqual({
      error: 'invalid_grant',
      error_description: 'The login was revoked: the user must sign in again',
    });
  });
});
