/**
 * Several replicas sharing one Redis: one rate budget, refresh coalescing across processes, and a
 * service that keeps serving when Redis dies.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../src/sandbox/index.js';
import { type CliRun, runCli } from './helpers/cli.js';
import { type Listening, listen } from './helpers/listen.js';
import { metric } from './helpers/metrics.js';
import { type RedisProcess, startRedis } from './helpers/redis.js';
import {
  authorize,
  CLIENT_ID,
  CLIENT_SECRET,
  postForm,
  REDIRECT_URI,
  SECRET_A,
  type Stack,
  startStack,
} from './helpers/stack.js';

let sandbox: Sandbox;
let accounts: Listening;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  sandbox = createSandbox({
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
    autoApprove: true,
  });
  accounts = await listen(sandbox.app.fetch);
});
afterAll(() => accounts.close());
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  sandbox.reset();
});

async function startRedisForTest(): Promise<RedisProcess> {
  const redis = await startRedis();
  cleanups.push(() => redis.kill());
  return redis;
}

/** A service replica as its own process, the way it is deployed. */
async function replica(redisUrl: string, env: Record<string, string> = {}): Promise<string> {
  const run: CliRun = runCli(['serve', '--port', '0'], {
    env: {
      SPOTIFY_CLIENT_ID: CLIENT_ID,
      SPOTIFY_CLIENT_SECRET: CLIENT_SECRET,
      SPOTIFY_REDIRECT_URI: REDIRECT_URI,
      SPOTIFY_ACCOUNTS_URL: accounts.url,
      ENCRYPTION_SECRET: SECRET_A,
      REDIS_URL: redisUrl,
      UPSTREAM_TIMEOUT_MS: '5000',
      LOG_LEVEL: 'warn',
      ...env,
    },
  });
  cleanups.push(async () => {
    if (run.child.exitCode === null) {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });
  const [, url] = await run.waitFor(/listening on (http:\/\/\S+)/);
  return url ?? '';
}

async function sealedRefreshToken(serviceUrl: string): Promise<string> {
  const { code } = await authorize(accounts.url);
  const response = await postForm(`${serviceUrl}/swap`, { code });
  expect(response.status).toBe(200);
  return ((await response.json()) as { refresh_token: string }).refresh_token;
}

describe('replicas sharing one Redis', () => {
  it('share one rate budget', async () => {
    const redis = await startRedisForTest();
    const env = { RATE_LIMIT_SWAP_PER_MINUTE: '4' };
    const [a, b] = await Promise.all([replica(redis.url, env), replica(redis.url, env)]);
    const statuses: number[] = [];
    for (const url of [a, b, a, b, a, b]) {
      statuses.push((await postForm(`${url}/swap`, { code: 'AQnot-a-code' })).status);
    }
    expect(statuses).toEqual([400, 400, 400, 400, 429, 429]);
  });

  it('coalesce 100 identical refreshes across processes: one upstream call for all', async () => {
    const redis = await startRedisForTest();
    const env = { RATE_LIMIT_REFRESH_PER_MINUTE: '0' };
    const [a, b] = await Promise.all([replica(redis.url, env), replica(redis.url, env)]);
    const token = await sealedRefreshToken(a);
    const before = sandbox.stats().byGrant.refresh_token;
    sandbox.faults.push({ kind: 'slow', delayMs: 1_000 });
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => postForm(`${i % 2 ? a : b}/refresh`, { refresh_token: token })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(200));
    const bodies = await Promise.all(responses.map((r) => r.text()));
    expect(new Set(bodies).size).toBe(1);
    expect(sandbox.stats().byGrant.refresh_token - before).toBe(1);
  });

  it('keeps the shared answer in Redis only briefly, and only encrypted', async () => {
    const redis = await startRedisForTest();
    const stack: Stack = await startStack({
      env: { REDIS_URL: redis.url },
      accounts: { sandbox, listening: accounts },
    });
    cleanups.push(() => stack.close());
    const token = await sealedRefreshToken(stack.service.url);
    const response = await postForm(`${stack.service.url}/refresh`, { refresh_token: token });
    const body = (await response.json()) as { access_token: string };
    const client = redis.client();
    const keys = await client.keys('token-swap:refresh:answer:*');
    expect(keys).toHaveLength(1);
    const stored = (await client.get(keys[0] ?? '')) ?? '';
    expect(stored).toMatch(/^[\w-]+\.[\w-]+$/);
    expect(stored).not.toContain(body.access_token);
    const ttl = await client.pttl(keys[0] ?? '');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3_000);
    for (const key of await client.keys('*')) {
      expect(key).not.toContain(token);
    }
  });

  it('keeps serving when Redis dies mid-run, says so in /readyz and metrics, and recovers', async () => {
    const redis = await startRedisForTest();
    const stack: Stack = await startStack({
      env: {
        REDIS_URL: redis.url,
        RATE_LIMIT_SWAP_PER_MINUTE: '1000',
        RATE_LIMIT_REFRESH_PER_MINUTE: '1000',
      },
      accounts: { sandbox, listening: accounts },
    });
    cleanups.push(() => stack.close());
    const url = stack.service.url;
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const tokens = await Promise.all(Array.from({ length: 4 }, () => sealedRefreshToken(url)));

    const statuses: number[] = [];
    const failures: unknown[] = [];
    let killed = false;
    const load = (async () => {
      for (let i = 0; i < 60; i++) {
        if (i === 20) {
          await redis.kill();
          killed = true;
        }
        const batch = await Promise.allSettled(
          tokens.map((token) => postForm(`${url}/refresh`, { refresh_token: token })),
        );
        for (const result of batch) {
          if (result.status === 'fulfilled') statuses.push(result.value.status);
          else failures.push(result.reason);
        }
      }
    })();
    await load;
    expect(killed).toBe(true);
    expect(failures).toEqual([]);
    expect(statuses).toHaveLength(240);
    expect(new Set(statuses)).toEqual(new Set([200]));

    // Redis is shared by every replica: this one is degraded, not to be taken out (it still served all 240).
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'degraded',
      checks: { redis: { ok: false, shared: true } },
    });
    expect(await metric(stack, 'token_swap_shared_store_up')).toBe(0);
    expect(stack.logs.some((line) => String(line.msg).startsWith('Redis is unreachable'))).toBe(true);

    // Redis comes back on the same port: the service reconnects by itself.
    const again = await startRedis(redis.port);
    cleanups.push(() => again.kill());
    await expect
      .poll(async () => ((await (await fetch(`${url}/readyz`)).json()) as { status: string }).status, {
        timeout: 10_000,
      })
      .toBe('ready');
    expect(await metric(stack, 'token_swap_shared_store_up')).toBe(1);
  });
});
