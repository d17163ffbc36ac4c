import { describe, expect, it } from 'vitest';
import { parseClientAddress, resolveClientIp } from '../src/server/client-ip.js';
import { createMemoryRateLimitStore } from '../src/server/rate-limit.js';
import { metric } from './helpers/metrics.js';
import { tokenCalls } from './helpers/sandbox-control.js';
import { postForm, type Stack, stacksClosedAfterEach } from './helpers/stack.js';

const startStack = stacksClosedAfterEach();
const start = (env: Record<string, string>) => startStack({ env });

const swap = (stack: Stack, headers: Record<string, string> = {}) =>
  postForm(`${stack.service.url}/swap`, { code: 'AQnot-a-code' }, headers);
const refresh = (stack: Stack, headers: Record<string, string> = {}) =>
  postForm(`${stack.service.url}/refresh`, { refresh_token: 'AQnot-a-token' }, headers);

describe('rate limiting per client address', () => {
  it('refuses past the budget with 429, Retry-After and the RateLimit headers, without calling Spotify', async () => {
    const stack = await start({ RATE_LIMIT_SWAP_PER_MINUTE: '3', RATE_LIMIT_REFRESH_PER_MINUTE: '5' });
    const first = await swap(stack);
    expect(first.status).toBe(400);
    expect(first.headers.get('ratelimit-policy')).toBe('swap;q=3;w=60');
    expect(first.headers.get('ratelimit')).toMatch(/^swap;r=2;t=(59|60)$/);
    await swap(stack);
    expect((await swap(stack)).headers.get('ratelimit')).toMatch(/^swap;r=0;t=\d+$/);

    const calls = await tokenCalls(stack.accounts.url);
    const refused = await swap(stack);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toBe('application/json');
    expect(refused.headers.get('retry-after')).toMatch(/^(59|60)$/);
    expect(refused.headers.get('ratelimit')).toBe(`swap;r=0;t=${refused.headers.get('retry-after')}`);
    expect(await refused.json()).toEqual({
      error: 'rate_limited',
      error_description: expect.stringMatching(
        /^Too many requests from this address; retry after \d+ seconds$/,
      ),
    });
    expect(await tokenCalls(stack.accounts.url)).toBe(calls);
    expect(await metric(stack, 'token_swap_rate_limited_total', { policy: 'swap' })).toBe(1);
  });

  it('keeps separate budgets for /swap and /refresh, shared by their aliases', async () => {
    const stack = await start({ RATE_LIMIT_SWAP_PER_MINUTE: '2', RATE_LIMIT_REFRESH_PER_MINUTE: '2' });
    await swap(stack);
    await postForm(`${stack.service.url}/api/token`, { code: 'AQx' });
    expect((await swap(stack)).status).toBe(429);
    expect((await refresh(stack)).status).toBe(400);
    expect((await postForm(`${stack.service.url}/api/refresh_token`, { refresh_token: 'AQx' })).status).toBe(
      400,
    );
    expect((await refresh(stack)).status).toBe(429);
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY says how many proxies add to it', async () => {
    const direct = await start({ RATE_LIMIT_SWAP_PER_MINUTE: '1' });
    await swap(direct, { 'X-Forwarded-For': '198.51.100.1' });
    // A client cannot buy a fresh budget by writing its own X-Forwarded-For.
    expect((await swap(direct, { 'X-Forwarded-For': '198.51.100.2' })).status).toBe(429);

    const proxied = await start({ RATE_LIMIT_SWAP_PER_MINUTE: '1', TRUST_PROXY: '1' });
    // The trusted proxy appends the address it saw; what the client wrote before it does not count.
    expect((await swap(proxied, { 'X-Forwarded-For': 'spoofed, 198.51.100.1' })).status).toBe(400);
    expect((await swap(proxied, { 'X-Forwarded-For': 'other-spoof, 198.51.100.1' })).status).toBe(429);
    expect((await swap(proxied, { 'X-Forwarded-For': '198.51.100.2' })).status).toBe(400);
  });

  it('gives IPv4:port entries of X-Forwarded-For one budget, whatever the port (rate-limit bypass)', async () => {
    const proxied = await start({ RATE_LIMIT_SWAP_PER_MINUTE: '1', TRUST_PROXY: '1' });
    expect((await swap(proxied, { 'X-Forwarded-For': '203.0.113.7:40001' })).status).toBe(400);
    for (const port of [40002, 40003, 51234]) {
      expect((await swap(proxied, { 'X-Forwarded-For': `203.0.113.7:${port}` })).status).toBe(429);
    }
    expect((await swap(proxied, { 'X-Forwarded-For': '[2001:db8::1]:5000' })).status).toBe(400);
    expect((await swap(proxied, { 'X-Forwarded-For': '[2001:db8::2]:5001' })).status).toBe(429);
  });

  it('is off with a budget of 0', async () => {
    const stack = await start({ RATE_LIMIT_SWAP_PER_MINUTE: '0' });
    for (let i = 0; i < 5; i++) {
      const response = await swap(stack);
      expect(response.status).toBe(400);
      expect(response.headers.get('ratelimit')).toBeNull();
    }
  });
});

describe('client address', () => {
  it('takes the entry the outermost trusted proxy appended', () => {
    expect(resolveClientIp('10.0.0.1', '1.1.1.1, 2.2.2.2, 3.3.3.3', 0)).toBe('10.0.0.1');
    expect(resolveClientIp('10.0.0.1', '1.1.1.1, 2.2.2.2, 3.3.3.3', 1)).toBe('3.3.3.3');
    expect(resolveClientIp('10.0.0.1', '1.1.1.1, 2.2.2.2, 3.3.3.3', 2)).toBe('2.2.2.2');
    expect(resolveClientIp('10.0.0.1', '3.3.3.3', 3)).toBe('3.3.3.3');
    expect(resolveClientIp('10.0.0.1', undefined, 1)).toBe('10.0.0.1');
    expect(resolveClientIp(undefined, undefined, 0)).toBe('unknown');
  });

  it('unmaps IPv4-mapped IPv6 and groups IPv6 by /64', () => {
    expect(parseClientAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(parseClientAddress('::FFFF:7f00:1')).toBe('127.0.0.1');
    expect(parseClientAddress('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(parseClientAddress('2001:0db8:0001:0002:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(parseClientAddress('[::1]')).toBe('0:0:0:0::/64');
  });

  it('reads IPv4:port and [IPv6]:port as the address, so a source port gets no budget of its own', () => {
    expect(parseClientAddress('203.0.113.7:40001')).toBe('203.0.113.7');
    expect(parseClientAddress('203.0.113.7:40002')).toBe('203.0.113.7');
    expect(parseClientAddress('[2001:db8:1:2::7]:443')).toBe('2001:db8:1:2::/64');
    expect(parseClientAddress('[2001:db8:1:2::7]')).toBe('2001:db8:1:2::/64');
    for (const bad of [
      '1:2:3:4:5:6:7:8:9::',
      '203.0.113.7:99999x',
      '256.1.1.1',
      'unknown',
      '',
      'a.b.c.d:1',
      '::1::2',
    ]) {
      expect(parseClientAddress(bad), bad).toBeUndefined();
    }
  });

  it('falls back to the socket address for an entry that is not an address', () => {
    expect(resolveClientIp('10.0.0.1', 'spoof, garbage', 1)).toBe('10.0.0.1');
    expect(resolveClientIp('10.0.0.1', '203.0.113.7:40001', 1)).toBe('203.0.113.7');
    expect(resolveClientIp('::ffff:10.0.0.1', 'x', 1)).toBe('10.0.0.1');
  });
});

describe('memory rate-limit store', () => {
  it('counts per key in fixed windows and forgets expired ones', async () => {
    let now = 0;
    const store = createMemoryRateLimitStore(() => now);
    const policy = { name: 'swap', limit: 10, windowMs: 1000 };
    expect(await store.increment('a', policy)).toEqual({ count: 1, resetMs: 1000 });
    now = 400;
    expect(await store.increment('a', policy)).toEqual({ count: 2, resetMs: 600 });
    expect(await store.increment('b', policy)).toEqual({ count: 1, resetMs: 1000 });
    now = 1000;
    expect(await store.increment('a', policy)).toEqual({ count: 1, resetMs: 1000 });
  });
});
