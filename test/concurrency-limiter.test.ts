import { describe, expect, it } from 'vitest';
import { createLocalCoalescer } from '../src/server/coalesce.js';
import { OAuthError } from '../src/server/errors.js';
import { createConcurrencyLimiter } from '../src/server/upstream/concurrency.js';

describe('the concurrency cap on calls to Spotify', () => {
  it('hands out a slot at once while one is free, and none past the cap', () => {
    const limiter = createConcurrencyLimiter({ maxConcurrent: 2, queueTimeoutMs: 1_000 });
    const first = limiter.tryAcquire();
    const second = limiter.tryAcquire();
    expect(first).toBeTypeOf('function');
    expect(second).toBeTypeOf('function');
    expect(limiter.tryAcquire()).toBeUndefined();
    expect(limiter.inFlight).toBe(2);
    first?.();
    first?.();
    // Released once however often it is called.
    expect(limiter.inFlight).toBe(1);
  });

  it('passes a released slot to the caller waiting longest, which a caller arriving later cannot jump', async () => {
    const limiter = createConcurrencyLimiter({ maxConcurrent: 1, queueTimeoutMs: 5_000 });
    const held = limiter.tryAcquire();
    const waiting = limiter.acquire();
    expect(limiter.waiting).toBe(1);
    held?.();
    // The slot went to the waiting caller, not back to the pool: a newcomer finds none.
    expect(limiter.tryAcquire()).toBeUndefined();
    expect(limiter.inFlight).toBe(1);
    const release = await waiting;
    release();
    expect(limiter.inFlight).toBe(0);
  });

  it('refuses at once, with a 503, when the queue is full', async () => {
    const limiter = createConcurrencyLimiter({ maxConcurrent: 1, queueTimeoutMs: 5_000, maxQueue: 0 });
    limiter.tryAcquire();
    const refusal = await limiter.acquire().catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(OAuthError);
    expect(refusal).toMatchObject({ status: 503 });
  });
});

describe('in-process refresh coalescing', () => {
  const key = (local: string) => ({ local, secret: local, digest: async () => local });

  it('forgets a call before its waiters resume, so that one of them can start the next call at once', async () => {
    const coalescer = createLocalCoalescer();
    let calls = 0;
    let finish = (_answer: { status: number; body: string; headers: Record<string, string> }) => {};
    const produce = () => {
      calls += 1;
      return new Promise<{ status: number; body: string; headers: Record<string, string> }>((resolve) => {
        finish = resolve;
      });
    };
    const running = coalescer.run(key('a'), produce);
    const answer = { status: 200, body: '{}', headers: {} };
    const next = running.then(() => coalescer.run(key('a'), produce));
    finish(answer);
    expect(await running).toBe(answer);
    // The waiter's own run started a new call: the finished one was no longer in flight.
    expect(calls).toBe(2);
    finish(answer);
    await next;
  });

  it('shares a failure with every waiter, and forgets it as well', async () => {
    const coalescer = createLocalCoalescer();
    const failure = new Error('upstream fault');
    let calls = 0;
    const produce = async () => {
      calls += 1;
      throw failure;
    };
    const shared: string[] = [];
    const results = await Promise.allSettled([
      coalescer.run(key('b'), produce),
      coalescer.run(key('b'), produce, (scope) => shared.push(scope)),
    ]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(shared).toEqual(['local']);
    await expect(coalescer.run(key('b'), produce)).rejects.toBe(failure);
    expect(calls).toBe(2);
  });
});
