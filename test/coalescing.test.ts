import { describe, expect, it } from 'vitest';
import { metric } from './helpers/metrics.js';
import { injectFault } from './helpers/sandbox-control.js';
import { authorize, postForm, SECRET_A, type Stack, stacksClosedAfterEach } from './helpers/stack.js';

const start = stacksClosedAfterEach();

async function refreshToken(stack: Stack): Promise<string> {
  const { code } = await authorize(stack.accounts.url);
  return ((await (await postForm(`${stack.service.url}/swap`, { code })).json()) as { refresh_token: string })
    .refresh_token;
}

const refreshCalls = (stack: Stack) => stack.sandbox.stats().byGrant.refresh_token;

describe('refresh coalescing (single flight)', () => {
  it('100 concurrent identical refreshes make exactly one upstream call and get the same answer', async () => {
    const stack = await start({
      env: { ENCRYPTION_SECRET: SECRET_A, UPSTREAM_TIMEOUT_MS: '5000' },
      sandbox: { rotateRefreshTokens: true },
    });
    const token = await refreshToken(stack);
    // Slow enough that all 100 arrive while the first call is in flight.
    await injectFault(stack.accounts.url, { kind: 'slow', delayMs: 1_500 });
    const responses = await Promise.all(
      Array.from({ length: 100 }, () => postForm(`${stack.service.url}/refresh`, { refresh_token: token })),
    );
    const bodies = await Promise.all(responses.map((r) => r.text()));
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(200));
    expect(new Set(bodies).size).toBe(1);
    expect(refreshCalls(stack)).toBe(1);
    expect(await metric(stack, 'token_swap_refresh_coalesced_total', { scope: 'local' })).toBe(99);
    // Everybody got the same sealed rotated token, and it works.
    const rotated = (JSON.parse(bodies[0] ?? '{}') as { refresh_token: string }).refresh_token;
    expect((await postForm(`${stack.service.url}/refresh`, { refresh_token: rotated })).status).toBe(200);
  });

  it('shares failures too: concurrent callers all get the one upstream timeout', async () => {
    const stack = await start();
    const token = await refreshToken(stack);
    await injectFault(stack.accounts.url, { kind: 'slow', delayMs: 1_500 });
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => postForm(`${stack.service.url}/refresh`, { refresh_token: token })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(504));
    expect(refreshCalls(stack)).toBe(1);
  });

  it('does not coalesce different refresh tokens, nor requests that do not overlap', async () => {
    const stack = await start();
    const [a, b] = [await refreshToken(stack), await refreshToken(stack)];
    await Promise.all(
      [a, b].map((token) => postForm(`${stack.service.url}/refresh`, { refresh_token: token })),
    );
    expect(refreshCalls(stack)).toBe(2);
    await postForm(`${stack.service.url}/refresh`, { refresh_token: a });
    expect(refreshCalls(stack)).toBe(3);
  });
});
