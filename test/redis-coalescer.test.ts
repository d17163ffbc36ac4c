/**
 * Refresh coalescing across replicas, one lock at a time: each replica is a Redis shared state of
 * its own (its own connection), as two processes would have, against a real redis-server; the
 * upstream call is a function the test controls. The lock protocol is in
 * src/runtimes/node/redis/lease.ts and coalescer.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedisSharedState,
  type RedisOptions,
  type RedisSharedState,
} from '../src/runtimes/node/redis/index.js';
import type { CoalesceKey, SharedAnswer } from '../src/server/coalesce.js';
import { silentLogger } from '../src/server/logger.js';
import { noopMetrics } from '../src/server/metrics.js';
import { sealAnswer } from '../src/server/sealed-answer.js';
import { type RedisProcess, startRedis } from './helpers/redis.js';

/** As production computes it for the default 10 s upstream timeout: far longer than any wait here. */
const BUDGET_MS = 23_000;
const LEASE_MS = 2_000;

let redis: RedisProcess;
const replicas: RedisSharedState[] = [];
const pending: (() => void)[] = [];
let tokens = 0;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.kill());
afterEach(async () => {
  for (const finish of pending.splice(0)) finish();
  await Promise.all(replicas.splice(0).map((replica) => replica.close()));
});

function replica(options: Partial<RedisOptions> = {}): RedisSharedState {
  const state = createRedisSharedState(redis.url, {
    logger: silentLogger,
    metrics: noopMetrics,
    refreshBudgetMs: BUDGET_MS,
    ...options,
  });
  replicas.push(state);
  return state;
}

/** A replica once connected. */
async function connected(options: Partial<RedisOptions> = {}): Promise<RedisSharedState> {
  const state = replica(options);
  expect(await state.ready(5_000)).toBe(true);
  return state;
}

/** A refresh token of its own for each test, and the Redis keys replicas use for it. */
function refreshKey(): { key: CoalesceKey; lockKey: string; answerKey: string } {
  tokens += 1;
  const id = `test-${process.pid}-${tokens}`;
  const key: CoalesceKey = {
    local: `refresh token ${tokens}`,
    digest: async () => id,
    secret: `a refresh token of test ${tokens}`,
  };
  return { key, lockKey: `token-swap:refresh:lock:${id}`, answerKey: `token-swap:refresh:answer:${id}` };
}

const answer = (access: string): SharedAnswer => ({
  status: 200,
  body: JSON.stringify({ access_token: access }),
  headers: {},
});

/** An upstream call that answers when the test says so, and counts how often it was made. */
function controlledProduce(value: SharedAnswer) {
  let finish: () => void = () => {};
  const answered = new Promise<void>((resolve) => {
    finish = resolve;
  });
  pending.push(() => finish());
  const calls = { count: 0 };
  const produce = async () => {
    calls.count += 1;
    await answered;
    return value;
  };
  return { produce, calls, finish: () => finish() };
}

function counted(value: SharedAnswer) {
  const calls = { count: 0 };
  return {
    calls,
    produce: async () => {
      calls.count += 1;
      return value;
    },
  };
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

describe('the refresh lock across replicas', () => {
  it('is released when producing throws: the next refresh of that token is not delayed', async () => {
    const [a, b] = await Promise.all([connected(), connected()]);
    const { key, lockKey } = refreshKey();
    await expect(
      a.coalescer.run(key, async () => {
        throw new Error('the upstream call broke');
      }),
    ).rejects.toThrow('the upstream call broke');
    expect(await redis.client().exists(lockKey)).toBe(0);

    const next = counted(answer('after the failure'));
    const { value, ms } = await timed(() => b.coalescer.run(key, next.produce));
    expect(value).toEqual(answer('after the failure'));
    expect(next.calls.count).toBe(1);
    expect(ms).toBeLessThan(LEASE_MS / 2);
  });

  it('taken by a SET that timed out here but ran on the server is released when the refresh ends', async () => {
    const [a, b] = await Promise.all([connected(), connected()]);
    const { key, lockKey } = refreshKey();
    const client = redis.client();
    // Redis holds every write for 1 s: the replica's SET times out on its side (COMMAND_TIMEOUT_MS)
    // and runs when the pause ends, for an owner that never heard it won.
    await client.call('CLIENT', 'PAUSE', '1000', 'WRITE');
    let lockSeen = false;
    const slow = counted(answer('produced while Redis was paused'));
    const value = await a.coalescer.run(key, async () => {
      // The upstream call outlasts the pause, as a real one would: the late SET runs meanwhile.
      await expect.poll(() => client.exists(lockKey), { timeout: 5_000, interval: 20 }).toBe(1);
      lockSeen = true;
      return slow.produce();
    });
    expect(value).toEqual(answer('produced while Redis was paused'));
    expect(lockSeen).toBe(true);
    expect(await client.exists(lockKey)).toBe(0);

    // And the next refresh of that token, elsewhere, gets that answer at once.
    const next = counted(answer('a second call'));
    const { value: again, ms } = await timed(() => b.coalescer.run(key, next.produce));
    expect(again).toEqual(answer('produced while Redis was paused'));
    expect(next.calls.count).toBe(0);
    expect(ms).toBeLessThan(LEASE_MS / 2);
  });

  it('that nobody renews (a SET timed out here, run there, for another owner) holds a waiter up for one lease, not the budget', async () => {
    const a = await connected();
    const { key, lockKey } = refreshKey();
    // What a replica's SET that timed out on its side leaves, as an older version took it: a long
    // TTL, a value no live caller holds.
    await redis.client().set(lockKey, 'another replica, long gone', 'PX', 60_000);

    const mine = counted(answer('produced by the waiter'));
    const { value, ms } = await timed(() => a.coalescer.run(key, mine.produce));
    expect(value).toEqual(answer('produced by the waiter'));
    expect(mine.calls.count).toBe(1);
    expect(ms).toBeGreaterThanOrEqual(LEASE_MS - 50);
    expect(ms).toBeLessThan(LEASE_MS + 1_500);
  });

  it('of an owner that crashed dies within one lease, and a waiter takes over', async () => {
    const [owner, waiter] = await Promise.all([connected(), connected()]);
    const { key, lockKey } = refreshKey();
    const stuck = controlledProduce(answer('never sent'));
    const abandoned = owner.coalescer.run(key, stuck.produce);
    abandoned.catch(() => {});
    await expect.poll(() => redis.client().exists(lockKey)).toBe(1);
    // The owner's connection goes, as with a crashed process: nothing renews or releases its lock.
    await owner.close();

    const mine = counted(answer('produced by the waiter'));
    const { value, ms } = await timed(() => waiter.coalescer.run(key, mine.produce));
    expect(value).toEqual(answer('produced by the waiter'));
    expect(mine.calls.count).toBe(1);
    expect(ms).toBeLessThan(LEASE_MS + 1_500);
    stuck.finish();
  });

  it('of an owner alive but slow is renewed past its lease: the waiter gets the owner’s answer, one upstream call', async () => {
    // A lease of 600 ms renewed every 150: the renewals run in this test's process, so a stall of
    // its event loop longer than 450 ms (not 225, as with 300 and 75) would let the lease lapse.
    const timings = { leaseMs: 600, renewEveryMs: 150, pollMs: 10 };
    const [owner, waiter] = await Promise.all([connected({ timings }), connected({ timings })]);
    const { key, lockKey } = refreshKey();
    const slow = controlledProduce(answer('from the slow owner'));
    const first = owner.coalescer.run(key, slow.produce);
    await expect.poll(() => redis.client().exists(lockKey)).toBe(1);

    const shared: string[] = [];
    const mine = counted(answer('a second upstream call'));
    const second = waiter.coalescer.run(key, mine.produce, (scope) => shared.push(scope));
    // Four leases go by with the owner still producing: only its renewals keep the lock there.
    const client = redis.client();
    let renewals = 0;
    let last = await client.pttl(lockKey);
    await expect
      .poll(
        async () => {
          const ttl = await client.pttl(lockKey);
          expect(ttl).toBeGreaterThan(0);
          expect(ttl).toBeLessThanOrEqual(timings.leaseMs);
          if (ttl > last) renewals += 1;
          last = ttl;
          return renewals;
        },
        { timeout: 10_000, interval: 20 },
      )
      .toBeGreaterThanOrEqual(16);
    slow.finish();

    expect(await first).toEqual(answer('from the slow owner'));
    expect(await second).toEqual(answer('from the slow owner'));
    expect(slow.calls.count).toBe(1);
    expect(mine.calls.count).toBe(0);
    expect(shared).toEqual(['shared']);
    await expect.poll(() => client.exists(lockKey)).toBe(0);
  });

  it('holds a waiter behind a live owner for the refresh budget at most', async () => {
    // As above: the owner's renewals must outlast a stall of this process's event loop.
    const timings = { leaseMs: 600, renewEveryMs: 150, pollMs: 10 };
    const budget = 1_000;
    const [owner, waiter] = await Promise.all([
      connected({ timings, refreshBudgetMs: budget }),
      connected({ timings, refreshBudgetMs: budget }),
    ]);
    const { key, lockKey } = refreshKey();
    const slow = controlledProduce(answer('from the owner, too late'));
    const first = owner.coalescer.run(key, slow.produce);
    await expect.poll(() => redis.client().exists(lockKey)).toBe(1);

    const mine = counted(answer('produced by the waiter'));
    const { value, ms } = await timed(() => waiter.coalescer.run(key, mine.produce));
    expect(value).toEqual(answer('produced by the waiter'));
    expect(mine.calls.count).toBe(1);
    expect(ms).toBeGreaterThanOrEqual(budget - 50);
    expect(ms).toBeLessThan(budget + 1_000);
    slow.finish();
    expect(await first).toEqual(answer('from the owner, too late'));
  });

  it('hands a refresh that comes right after the owner’s answer, without a call', async () => {
    const [a, b] = await Promise.all([connected(), connected()]);
    const { key } = refreshKey();
    const first = counted(answer('the first'));
    expect(await a.coalescer.run(key, first.produce)).toEqual(answer('the first'));
    const again = counted(answer('a second call'));
    const shared: string[] = [];
    expect(await b.coalescer.run(key, again.produce, (scope) => shared.push(scope))).toEqual(
      answer('the first'),
    );
    expect(again.calls.count).toBe(0);
    expect(shared).toEqual(['shared']);
  });
  it('ignores an answer in Redis that decrypts with the token but is not an answer', async () => {
    const timings = { leaseMs: 300, renewEveryMs: 75, pollMs: 10 };
    const a = await connected({ timings });
    const { key, lockKey, answerKey } = refreshKey();
    const client = redis.client();
    const malformed = { status: '200', body: { access_token: 'from nowhere' }, headers: { a: 1 } };
    const sealed = await sealAnswer(malformed as unknown as SharedAnswer, key.secret, await key.digest());
    await client.set(answerKey, sealed, 'PX', 60_000);

    // Found on arrival: the replica takes the lock and calls upstream instead.
    const first = counted(answer('produced, not the stored one'));
    expect(await a.coalescer.run(key, first.produce)).toEqual(answer('produced, not the stored one'));
    expect(first.calls.count).toBe(1);

    // Found while waiting on another owner's lease: still no answer, the waiter carries on.
    await client.set(answerKey, sealed, 'PX', 60_000);
    await client.set(lockKey, 'another replica', 'PX', timings.leaseMs);
    const waiting = counted(answer('produced once the lease ran out'));
    expect(await a.coalescer.run(key, waiting.produce)).toEqual(answer('produced once the lease ran out'));
    expect(waiting.calls.count).toBe(1);
  });
});
