import { describe, expect, it } from 'vitest';
import { createSandbox } from '../src/sandbox/index.js';
import { listen } from './helpers/listen.js';
import { metric } from './helpers/metrics.js';
import { injectFault, tokenCalls } from './helpers/sandbox-control.js';
import {
  authorize,
  postForm,
  SECRET_B,
  type Stack,
  stacksClosedAfterEach,
  UNSEALED,
} from './helpers/stack.js';

const start = stacksClosedAfterEach();

async function refreshToken(stack: Stack): Promise<string> {
  const { code } = await authorize(stack.accounts.url);
  const body = (await (await postForm(`${stack.service.url}/swap`, { code })).json()) as {
    refresh_token: string;
  };
  return body.refresh_token;
}

const refresh = (stack: Stack, token: string) =>
  postForm(`${stack.service.url}/refresh`, { refresh_token: token });
const calls = (stack: Stack) => tokenCalls(stack.accounts.url);

describe('retries', () => {
  it('retries a refresh once after a 503, and the client sees the success', async () => {
    const stack = await start();
    const token = await refreshToken(stack);
    await injectFault(stack.accounts.url, { kind: 'status', status: 503 });
    const before = await calls(stack);
    expect((await refresh(stack, token)).status).toBe(200);
    expect((await calls(stack)) - before).toBe(2);
    expect(await metric(stack, 'token_swap_upstream_retries_total', { grant: 'refresh_token' })).toBe(1);
  });

  it('retries a refresh once after a dropped connection', async () => {
    const stack = await start();
    const token = await refreshToken(stack);
    await injectFault(stack.accounts.url, { kind: 'drop' });
    expect((await refresh(stack, token)).status).toBe(200);
  });

  it('retries a refresh at most once: two 502s give the client a 502 after two calls', async () => {
    const stack = await start();
    const token = await refreshToken(stack);
    await injectFault(stack.accounts.url, { kind: 'status', status: 502, count: 2 });
    const before = await calls(stack);
    expect((await refresh(stack, token)).status).toBe(502);
    expect((await calls(stack)) - before).toBe(2);
  });

  it('never retries a refresh on a 4xx, a 500 or a timeout', async () => {
    const stack = await start({ env: UNSEALED });
    let before = await calls(stack);
    expect((await refresh(stack, 'AQunknown')).status).toBe(400);
    expect((await calls(stack)) - before).toBe(1);

    const token = await refreshToken(stack);
    await injectFault(stack.accounts.url, { kind: 'status', status: 500 });
    before = await calls(stack);
    expect((await refresh(stack, token)).status).toBe(502);
    expect((await calls(stack)) - before).toBe(1);

    await injectFault(stack.accounts.url, { kind: 'slow', delayMs: 1_500 });
    before = await calls(stack);
    expect((await refresh(stack, token)).status).toBe(504);
    expect((await calls(stack)) - before).toBe(1);
  });

  it('never retries a code exchange once the request may have reached Spotify', async () => {
    const stack = await start();
    for (const fault of [{ kind: 'status', status: 503 } as const, { kind: 'drop' } as const]) {
      const { code } = await authorize(stack.accounts.url);
      await injectFault(stack.accounts.url, fault);
      const before = await calls(stack);
      expect((await postForm(`${stack.service.url}/swap`, { code })).status).toBe(502);
      expect((await calls(stack)) - before).toBe(1);
    }
    expect(await metric(stack, 'token_swap_upstream_retries_total', { grant: 'authorization_code' })).toBe(0);
  });

  it('retries a code exchange when the connection was refused (the request never left)', async () => {
    // Port 9 (discard), where nothing on this machine listens: a port closed just before could be
    // handed to the sandbox or the service this stack starts, which would answer.
    const stack = await start({ env: { SPOTIFY_ACCOUNTS_URL: 'http://127.0.0.1:9' } });
    const response = await postForm(`${stack.service.url}/swap`, { code: 'AQcode' });
    expect(response.status).toBe(502);
    expect(await metric(stack, 'token_swap_upstream_retries_total', { grant: 'authorization_code' })).toBe(1);
    expect(
      await metric(stack, 'token_swap_upstream_requests_total', {
        grant: 'authorization_code',
        outcome: 'network_error',
      }),
    ).toBe(2);
  });
});

describe('circuit breaker', () => {
  // A cooldown of 2 s: the open breaker's answers below must all come before it ends, on a loaded
  // machine too (600 ms left a stall of half a second to fail the first case).
  const env = { BREAKER_FAILURE_THRESHOLD: '3', BREAKER_COOLDOWN_MS: '2000', ...UNSEALED };

  /** Polls readiness, which moves an open breaker to half-open once its cooldown has passed. */
  async function halfOpen(stack: Stack) {
    await expect
      .poll(
        async () => {
          const body = (await (await fetch(`${stack.service.url}/readyz`)).json()) as {
            checks: { upstream: { detail: string } };
          };
          return body.checks.upstream.detail;
        },
        { timeout: 10_000 },
      )
      .toBe('circuit breaker half_open');
  }

  async function failSwaps(stack: Stack, count: number) {
    await injectFault(stack.accounts.url, { kind: 'status', status: 500, count });
    for (let i = 0; i < count; i++) {
      expect((await postForm(`${stack.service.url}/swap`, { code: 'AQx' })).status).toBe(502);
    }
  }

  it('opens after consecutive 5xx, answers 503 with Retry-After without calling Spotify, then closes', async () => {
    const stack = await start({ env });
    await failSwaps(stack, 3);
    expect(await metric(stack, 'token_swap_circuit_breaker_state')).toBe(2);
    const before = await calls(stack);
    const refused = await postForm(`${stack.service.url}/swap`, { code: 'AQx' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(await refused.json()).toMatchObject({ error: 'temporarily_unavailable' });
    expect(await calls(stack)).toBe(before);
    // Shared by every replica: degraded, not a reason to take this one out (it still answers, with 503s).
    const degraded = await fetch(`${stack.service.url}/readyz`);
    expect(degraded.status).toBe(200);
    expect(await degraded.json()).toEqual({
      status: 'degraded',
      checks: { upstream: { ok: false, detail: 'circuit breaker open', shared: true } },
    });

    await halfOpen(stack);
    // Half-open: one probe goes through; it succeeds (an OAuth 4xx is a healthy answer) and closes.
    expect((await postForm(`${stack.service.url}/refresh`, { refresh_token: 'AQunknown' })).status).toBe(400);
    expect(await metric(stack, 'token_swap_circuit_breaker_state')).toBe(0);
    const ready = await fetch(`${stack.service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { upstream: { ok: true, detail: 'circuit breaker closed', shared: true } },
    });
  });

  it('reopens when the half-open probe fails', async () => {
    const stack = await start({ env });
    await failSwaps(stack, 3);
    await halfOpen(stack);
    await failSwaps(stack, 1);
    expect(await metric(stack, 'token_swap_circuit_breaker_state')).toBe(2);
    expect((await postForm(`${stack.service.url}/swap`, { code: 'AQx' })).status).toBe(503);
  });

  it('counts timeouts but never OAuth 4xx', async () => {
    const stack = await start({ env });
    for (let i = 0; i < 10; i++) {
      expect((await postForm(`${stack.service.url}/swap`, { code: 'AQnot-a-code' })).status).toBe(400);
    }
    expect(await metric(stack, 'token_swap_circuit_breaker_state')).toBe(0);
    await injectFault(stack.accounts.url, { kind: 'slow', delayMs: 1_500, count: 3 });
    for (let i = 0; i < 3; i++) {
      expect((await postForm(`${stack.service.url}/swap`, { code: 'AQx' })).status).toBe(504);
    }
    expect(await metric(stack, 'token_swap_circuit_breaker_state')).toBe(2);
  });
});

describe('circuit breakers of several upstreams', () => {
  it('reports each upstream under its own label, so one failing upstream does not hide behind another', async () => {
    const otherSandbox = createSandbox({
      clients: [{ clientId: 'other-id', clientSecret: 'other-secret', redirectUris: ['myapp://cb'] }],
    });
    const other = await listen(otherSandbox.app.fetch);
    try {
      const stack = await start({
        env: { BREAKER_FAILURE_THRESHOLD: '2' },
        configFile: {
          apps: {
            other: {
              clientId: 'other-id',
              clientSecret: 'other-secret',
              redirectUris: ['myapp://cb'],
              accountsUrl: other.url,
              encryptionSecrets: [SECRET_B],
            },
          },
        },
      });
      await injectFault(stack.accounts.url, { kind: 'status', status: 500, count: 2 });
      for (let i = 0; i < 2; i++) {
        expect((await postForm(`${stack.service.url}/swap`, { code: 'AQx' })).status).toBe(502);
      }
      // The other upstream then answers, and its healthy answer must not overwrite the open state.
      expect((await postForm(`${stack.service.url}/apps/other/swap`, { code: 'AQx' })).status).toBe(400);
      const state = (upstream: string) => metric(stack, 'token_swap_circuit_breaker_state', { upstream });
      expect(await state(stack.accounts.url)).toBe(2);
      expect(await state(other.url)).toBe(0);
      expect((await postForm(`${stack.service.url}/swap`, { code: 'AQx' })).status).toBe(503);
    } finally {
      await other.close();
    }
  });
});

describe('concurrency cap', () => {
  it('lets a few calls wait briefly, then answers 503 with Retry-After at once', async () => {
    const stack = await start({
      env: { UPSTREAM_MAX_CONCURRENCY: '2', UPSTREAM_QUEUE_TIMEOUT_MS: '100', UPSTREAM_TIMEOUT_MS: '5000' },
    });
    // One at a time: six swaps at once would meet the cap themselves and hand out no token.
    const tokens: string[] = [];
    for (let i = 0; i < 6; i++) tokens.push(await refreshToken(stack));
    expect(tokens.every((token) => token.startsWith('sts2.'))).toBe(true);
    // The two calls in the cap take 1.5 s (the upstream timeout here is 5 s); the four beyond it wait
    // 100 ms for a slot and are refused. "At once" is every 503 in before the first 200: an order,
    // not a time on the clock (a bound of 1.5 s after a 600 ms fault left 900 ms for a stall).
    await injectFault(stack.accounts.url, { kind: 'slow', delayMs: 1_500, count: 2 });
    const arrivals: number[] = [];
    const responses = await Promise.all(
      tokens.map(async (token) => {
        const response = await refresh(stack, token);
        arrivals.push(response.status);
        return response;
      }),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 503, 503, 503, 503]);
    expect(arrivals).toEqual([503, 503, 503, 503, 200, 200]);
    const refused = responses.find((r) => r.status === 503);
    expect(refused?.headers.get('retry-after')).toBe('1');
    expect(await refused?.json()).toMatchObject({ error: 'temporarily_unavailable' });
    expect(await metric(stack, 'token_swap_capacity_rejected_total')).toBe(4);
  });
});

describe('connection reuse', () => {
  it('reuses keep-alive connections to the Accounts service', async () => {
    const stack = await start();
    const token = await refreshToken(stack);
    for (let i = 0; i < 20; i++) {
      expect((await refresh(stack, token)).status).toBe(200);
    }
    const stats = stack.sandbox.stats();
    expect(stats.tokenRequests).toBe(21);
    expect(stats.tokenConnections).toBeLessThanOrEqual(2);
  });
});
