/**
 * The login stores' one contract (src/server/logins/store.ts), run against each: the process's memory
 * and a real redis-server. What the endpoints rely on: a revocation sticks and cannot be undone by a
 * rotation, a rotation is a compare-and-set on the newest generation (of two at once, one wins), the last
 * use never moves back, and a record lives until its login would have ended, then goes.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisLoginStore } from '../src/runtimes/node/redis/login-store.js';
import { createMemoryLoginStore, type LoginStore } from '../src/server/logins/store.js';
import { type RedisProcess, startRedis } from './helpers/redis.js';
import { testClock } from './helpers/tokens.js';

const HOUR = 3_600_000;
const rotation = (generation: number, at: number) => ({
  generation,
  rotatedAt: at,
  answer: `answer ${generation}`,
});

let redis: RedisProcess;
let client: Redis;
beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
});
afterAll(async () => {
  client.disconnect();
  await redis.kill();
});

let counter = 0;
/** A fresh record name per test: the Redis store is shared by the whole file. */
function freshKey(): string {
  counter += 1;
  return `login-${process.pid}-${counter}`;
}

const stores: Record<string, (now: () => number) => LoginStore> = {
  memory: (now) => createMemoryLoginStore({ now }),
  redis: (now) => createRedisLoginStore({ client, report: () => {} }, now),
};

describe.each(Object.keys(stores))('%s login store', (kind) => {
  const make = () => {
    const clock = testClock();
    return { clock, store: stores[kind]?.(clock.now) as LoginStore };
  };

  it('knows nothing of a login it was never told about', async () => {
    const { store } = make();
    expect(await store.get(freshKey())).toBeUndefined();
  });

  it('keeps a revocation, idempotently, and refuses any rotation after it', async () => {
    const { store, clock } = make();
    const key = freshKey();
    await store.revoke(key, clock.now() + HOUR);
    await store.revoke(key, clock.now() + HOUR);
    expect(await store.get(key)).toEqual({ revoked: true });
    expect(await store.rotate(key, undefined, rotation(1, clock.now()), clock.now() + HOUR)).toBe(false);
    expect((await store.get(key))?.generation).toBeUndefined();
  });

  it('rotates only from the expected generation: of two rotations from the same one, one wins', async () => {
    const { store, clock } = make();
    const key = freshKey();
    const until = clock.now() + HOUR;
    const results = await Promise.all([
      store.rotate(key, undefined, rotation(1, clock.now()), until),
      store.rotate(key, undefined, rotation(1, clock.now()), until),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.rotate(key, 0, rotation(2, clock.now()), until)).toBe(false);
    expect(await store.rotate(key, 1, rotation(2, clock.now() + 5), until)).toBe(true);
    expect(await store.get(key)).toEqual({
      generation: 2,
      rotatedAt: clock.now() + 5,
      answer: 'answer 2',
      lastUsedAt: clock.now() + 5,
    });
  });

  it('keeps the latest use: a touch never moves it back', async () => {
    const { store, clock } = make();
    const key = freshKey();
    const until = clock.now() + HOUR;
    await store.touch(key, clock.now() + 2_000, until);
    await store.touch(key, clock.now() + 1_000, until);
    expect((await store.get(key))?.lastUsedAt).toBe(clock.now() + 2_000);
    // A revocation keeps what else the record knew.
    await store.revoke(key, until);
    expect(await store.get(key)).toEqual({ revoked: true, lastUsedAt: clock.now() + 2_000 });
  });

  it('forgets a record once its login would have ended, and never sooner than a later write asked', async () => {
    const { store, clock } = make();
    const key = freshKey();
    await store.revoke(key, clock.now() + 2 * HOUR);
    // A later write with an earlier end does not shorten the record's life.
    await store.touch(key, clock.now(), clock.now() + 100);
    if (kind === 'memory') {
      clock.advance(HOUR);
      expect((await store.get(key))?.revoked).toBe(true);
      clock.advance(HOUR);
      expect(await store.get(key)).toBeUndefined();
    } else {
      // Redis keeps time itself: the expiry it was given is the one asked for (within a second).
      const ttl = await client.pttl(`token-swap:login:${key}`);
      expect(ttl).toBeGreaterThan(2 * HOUR - 1_000);
      expect(ttl).toBeLessThanOrEqual(2 * HOUR);
    }
  });
});

describe('memory login store bound', () => {
  it('keeps at most maxRecords, forgetting the least recently written first', async () => {
    const store = createMemoryLoginStore({ maxRecords: 3 });
    const until = Date.now() + HOUR;
    for (const key of ['a', 'b', 'c']) await store.revoke(key, until);
    await store.touch('a', Date.now(), until);
    await store.revoke('d', until);
    expect(await store.get('b')).toBeUndefined();
    for (const key of ['a', 'c', 'd']) expect((await store.get(key))?.revoked, key).toBe(true);
  });
});

describe('redis login store failures', () => {
  it('rejects when Redis is gone, and reports it, rather than answering as if nothing were known', async () => {
    const gone = await startRedis();
    const lonely = new Redis(gone.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false });
    await new Promise((resolve) => lonely.once('ready', resolve));
    const reports: boolean[] = [];
    const store = createRedisLoginStore({
      client: lonely,
      report: (up) => {
        reports.push(up);
      },
    });
    await store.revoke(freshKey(), Date.now() + HOUR);
    await gone.kill();
    await expect(store.get(freshKey())).rejects.toThrow();
    expect(reports).toEqual([true, false]);
    lonely.disconnect();
  });
});
