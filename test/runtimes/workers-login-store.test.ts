/**
 * The Workers login store (src/runtimes/workers/login-store.ts) against its Durable Object running in
 * workerd (Miniflare), bound as wrangler.toml binds it: the adapter is called from this process
 * through Miniflare's proxy of the LOGINS namespace, so every call crosses into the real object.
 * The semantics checked are the memory store's (src/server/logins/store.ts), the reference.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDurableObjectLoginStore, LoginObjectError } from '../../src/runtimes/workers/login-store.js';
import type { DurableObjectNamespace } from '../../src/runtimes/workers/platform.js';
import type { LoginStore } from '../../src/server/logins/store.js';
import { conformanceEnv } from '../conformance/suite.js';
import { buildWorker, disposeAll, type RunningWorker, startWorker } from './workers-miniflare.js';

const HOUR = 3_600_000;
let worker: RunningWorker;
let namespace: DurableObjectNamespace;

beforeAll(async () => {
  await buildWorker();
  // Nothing here calls Spotify: the Worker only needs a configuration that starts.
  worker = await startWorker(conformanceEnv('http://127.0.0.1:9'));
  namespace = (await worker.miniflare.getDurableObjectNamespace('LOGINS')) as DurableObjectNamespace;
});
afterAll(disposeAll);

const next = (generation: number, answer = `answer ${generation}`) => ({
  generation,
  rotatedAt: Date.now(),
  answer,
});

describe('the LOGINS Durable Object login store', () => {
  const store = () => createDurableObjectLoginStore(namespace);
  const until = () => Date.now() + HOUR;

  it('is shared, and knows nothing of a login it never saw', async () => {
    expect(store()).toMatchObject({ kind: 'durable-object', shared: true });
    expect(await store().get(randomUUID())).toBeUndefined();
  });

  it('seenJti, the DPoP replay cache, is set-if-absent: of two calls at once exactly one sets it, and it ends', async () => {
    const key = randomUUID();
    const results = await Promise.all([store().seenJti(key, until()), store().seenJti(key, until())]);
    expect([...results].sort()).toEqual([false, true]);
    expect(await store().seenJti(key, until())).toBe(true);
    // Past its end (the service's clock, as the other operations), the proof is forgotten.
    const later = createDurableObjectLoginStore(namespace, () => Date.now() + 2 * HOUR);
    expect(await later.seenJti(key, Date.now() + 3 * HOUR)).toBe(false);
    // A proof's object is not a login's: the same key names no login record.
    expect(await store().get(key)).toBeUndefined();
  });

  it('rotate is a compare-and-set: of two rotations from the same generation, exactly one wins', async () => {
    const key = randomUUID();
    const results = await Promise.all([
      store().rotate(key, undefined, next(1, 'first'), until()),
      store().rotate(key, undefined, next(1, 'second'), until()),
    ]);
    expect([...results].sort()).toEqual([false, true]);
    // The record is the winner's, whole: not a mix of the two writes.
    expect(await store().get(key)).toMatchObject({ generation: 1, answer: results[0] ? 'first' : 'second' });

    // The loser's view is stale; the winner's generation is the one to build on.
    expect(await store().rotate(key, undefined, next(2), until())).toBe(false);
    expect(await store().rotate(key, 1, next(2), until())).toBe(true);
    expect(await store().get(key)).toMatchObject({ generation: 2, answer: 'answer 2' });
  });

  it('a rotation records its time as the last use; a revoked login rotates no more', async () => {
    const key = randomUUID();
    const rotation = next(1);
    expect(await store().rotate(key, undefined, rotation, until())).toBe(true);
    expect((await store().get(key))?.lastUsedAt).toBe(rotation.rotatedAt);
    await store().revoke(key, until());
    await store().revoke(key, until());
    expect(await store().rotate(key, 1, next(2), until())).toBe(false);
    expect(await store().get(key)).toMatchObject({ revoked: true, generation: 1 });
  });

  it('touch only ever moves the last use later', async () => {
    const key = randomUUID();
    const at = Date.now();
    await store().touch(key, at, until());
    await store().touch(key, at - 1_000, until());
    expect(await store().get(key)).toEqual({ lastUsedAt: at });
    await store().touch(key, at + 1_000, until());
    expect(await store().get(key)).toEqual({ lastUsedAt: at + 1_000 });
  });

  it('a record reads as absent from its end on, on the caller’s clock, and a later write keeps it longer', async () => {
    let now = Date.now();
    const clocked: LoginStore = createDurableObjectLoginStore(namespace, () => now);
    const key = randomUUID();
    // Ends 30 s ahead: the object's alarm runs on the real clock, and must not delete the record
    // before the injected one gets there (an end 1 s ahead left a slow machine a second for six calls).
    await clocked.revoke(key, now + 30_000);
    await clocked.touch(key, now, now + 500); // An earlier end does not shorten the record's life.
    now += 29_999;
    expect(await clocked.get(key)).toMatchObject({ revoked: true });
    now += 1;
    expect(await clocked.get(key)).toBeUndefined();
    expect(await clocked.rotate(key, undefined, next(1), now + 1_000)).toBe(true);
    expect(await clocked.get(key)).toEqual({
      generation: 1,
      rotatedAt: expect.any(Number),
      answer: 'answer 1',
      lastUsedAt: expect.any(Number),
    });
  });

  it('the alarm at a record’s end deletes it from the object’s storage', async () => {
    // A clock an hour behind keeps the record live for reads, so only the alarm can make it go.
    const behind = createDurableObjectLoginStore(namespace, () => Date.now() - HOUR);
    const key = randomUUID();
    // 2 s: long enough for the read below to come first on a slow machine, short for the poll.
    await behind.revoke(key, Date.now() + 2_000);
    expect(await behind.get(key)).toEqual({ revoked: true });
    await expect.poll(() => behind.get(key), { timeout: 10_000, interval: 100 }).toBeUndefined();
  });

  it('a call the object refuses is a rejected promise that names no key', async () => {
    const key = randomUUID();
    const refused = store().rotate(key, undefined, next(-1), until());
    await expect(refused).rejects.toBeInstanceOf(LoginObjectError);
    await expect(refused).rejects.toThrow('the login object answered 400 to rotate');
    await expect(refused).rejects.not.toThrow(key);
  });
});
