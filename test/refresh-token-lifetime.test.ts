/**
 * A login's lifetime (issue 13, docs/sealed-tokens.md "Lifetime"): every answer says how long the login
 * has left, and a login past its maximum age, or unused past the idle limit, is refused before Spotify
 * is called. The service's clock is injected; the sandbox is the real peer on its socket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { metric } from './helpers/metrics.js';
import { tokenCalls } from './helpers/sandbox-control.js';
import { type Stack, startStack } from './helpers/stack.js';
import { DAY_MS, login, refresh, testClock } from './helpers/tokens.js';

const stacks: Stack[] = [];
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((stack) => stack.close()));
});

async function stackWith(env: Record<string, string>, clock = testClock()) {
  const stack = await startStack({ env, now: clock.now });
  stacks.push(stack);
  return { stack, clock };
}

describe('refresh_token_expires_in', () => {
  it('counts down Spotify six months from the authorization, on the swap and on every refresh', async () => {
    const { stack, clock } = await stackWith({});
    const swapped = await login(stack);
    const atSwap = Number(swapped.body.refresh_token_expires_in);
    // Six calendar months: 181 to 184 days, whatever month it is.
    expect(atSwap).toBeGreaterThanOrEqual(181 * 86_400);
    expect(atSwap).toBeLessThanOrEqual(184 * 86_400);

    clock.advance(10 * DAY_MS);
    const refreshed = await refresh(stack, swapped.refreshToken);
    expect(refreshed.status).toBe(200);
    // The authorization time is carried in the token: the countdown does not restart at a refresh.
    expect(refreshed.body.refresh_token_expires_in).toBe(atSwap - 10 * 86_400);
  });

  it('follows REFRESH_TOKEN_MAX_AGE when it is shorter', async () => {
    const { stack, clock } = await stackWith({ REFRESH_TOKEN_MAX_AGE: '7d' });
    const swapped = await login(stack);
    expect(swapped.body.refresh_token_expires_in).toBe(7 * 86_400);
    clock.advance(3_600_000);
    expect((await refresh(stack, swapped.refreshToken)).body.refresh_token_expires_in).toBe(
      7 * 86_400 - 3_600,
    );
  });
});

describe('a login past its maximum age', () => {
  it('is refused with invalid_grant saying so, without calling Spotify', async () => {
    const { stack, clock } = await stackWith({ REFRESH_TOKEN_MAX_AGE: '30d' });
    const start = clock.now();
    const { refreshToken } = await login(stack);
    clock.advance(30 * DAY_MS);
    const calls = await tokenCalls(stack.accounts.url);

    const refused = await refresh(stack, refreshToken);
    expect(refused.status).toBe(400);
    const end = new Date(start + 30 * DAY_MS).toISOString().slice(0, 10);
    expect(refused.body).toEqual({
      error: 'invalid_grant',
      error_description: `The login expired on ${end}: the user must sign in again`,
    });
    expect(await tokenCalls(stack.accounts.url)).toBe(calls);
    expect(await metric(stack, 'token_swap_refresh_refused_total', { reason: 'expired' })).toBe(1);
  });

  it('ends at Spotify six months by default, one second before which it still refreshes', async () => {
    const { stack, clock } = await stackWith({});
    const swapped = await login(stack);
    const left = Number(swapped.body.refresh_token_expires_in);
    clock.advance((left - 1) * 1000);
    const last = await refresh(stack, swapped.refreshToken);
    expect(last.status).toBe(200);
    expect(last.body.refresh_token_expires_in).toBe(1);
    clock.advance(1000);
    expect((await refresh(stack, swapped.refreshToken)).body.error).toBe('invalid_grant');
  });
});

describe('REFRESH_TOKEN_IDLE_TIMEOUT', () => {
  it('refuses a login unused that long, and a client that keeps refreshing is never cut off', async () => {
    const { stack, clock } = await stackWith({ REFRESH_TOKEN_IDLE_TIMEOUT: '2d' });
    const swapped = await login(stack);
    let token = swapped.refreshToken;
    // Every day for a week: always within the limit of the last use, so it goes on.
    for (let day = 1; day <= 7; day += 1) {
      clock.advance(DAY_MS);
      const refreshed = await refresh(stack, token);
      expect(refreshed.status, `day ${day}`).toBe(200);
      if (typeof refreshed.body.refresh_token === 'string') token = refreshed.body.refresh_token;
    }
    clock.advance(2 * DAY_MS);
    const calls = await tokenCalls(stack.accounts.url);
    const refused = await refresh(stack, token);
    expect(refused.body).toMatchObject({ error: 'invalid_grant' });
    expect(String(refused.body.error_description)).toMatch(
      /^The login expired after going unused since \d{4}-\d\d-\d\d: the user must sign in again$/,
    );
    expect(await tokenCalls(stack.accounts.url)).toBe(calls);
    expect(await metric(stack, 'token_swap_refresh_refused_total', { reason: 'idle' })).toBe(1);
  });

  it('re-seals once half the limit has passed, so a client without a store is not cut off either', async () => {
    // The token itself carries its issue time: a re-sealed one restarts the idle count even where
    // the store forgot the last use (another process, a restart).
    const { stack, clock } = await stackWith({ REFRESH_TOKEN_IDLE_TIMEOUT: '2d' });
    const swapped = await login(stack);
    clock.advance(DAY_MS / 2);
    expect((await refresh(stack, swapped.refreshToken)).body.refresh_token).toBeUndefined();
    clock.advance(DAY_MS / 2 + 1000);
    const resealed = await refresh(stack, swapped.refreshToken);
    expect(resealed.body.refresh_token).toEqual(expect.stringMatching(/^sts2\./));
    expect(await metric(stack, 'token_swap_refresh_resealed_total', { reason: 'idle' })).toBe(1);
  });
});
