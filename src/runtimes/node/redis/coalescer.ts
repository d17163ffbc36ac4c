/**
 * Refresh coalescing across replicas: one replica calls Spotify while holding the token's lock
 * (lease.ts), the others wait for its answer, which stays in Redis for a few seconds only
 * (answer.ts). Single flight in this process comes first, so only the first local caller of a
 * token asks Redis.
 *
 * A waiter waits for as long as the lock is there and is a lease, up to `refreshBudgetMs` (an owner
 * that is alive but slow is still the best source of the answer: a second call would spend the
 * app's Spotify budget when Spotify is already struggling, and hand out a second rotated token); it
 * stops as soon as the lock goes (and tries to take it), and after one lease for a lock that is
 * not a lease (no expiry, or a longer one: an older version's, or one written by hand). Whenever
 * Redis fails, the answer is produced here, as if there were no Redis.
 */
import type { Redis } from 'ioredis';
import { type Coalescer, createLocalCoalescer, type SharedAnswer } from '../../../server/coalesce.js';
import { openAnswer, sealAnswer } from '../../../server/sealed-answer.js';
import { randomToken } from '../../../shared/encoding.js';
import { KEY_PREFIX, type RedisConnection } from './connection.js';
import { createLeaseLock, DEFAULT_LEASE_TIMINGS, type Lease, type LeaseTimings } from './lease.js';

/**
 * How long a finished answer stays for replicas that asked at the same moment. Short: it carries
 * an access token whose `expires_in` was counted when Spotify answered. Errors go sooner, so that a
 * refresh does not inherit a stale outage for long. Both are long enough for a waiter polling every
 * `pollMs` to find the answer before it goes.
 */
const ANSWER_TTL_MS = 3_000;
const ERROR_ANSWER_TTL_MS = 1_000;

export interface CoalescerTimings extends LeaseTimings {
  /** How often a waiter looks for the owner's answer. */
  pollMs: number;
}

const DEFAULT_COALESCER_TIMINGS: CoalescerTimings = { ...DEFAULT_LEASE_TIMINGS, pollMs: 20 };

export interface RedisCoalescerOptions {
  /** Upper bound of one refresh upstream, queue and retry included: the longest a waiter waits. */
  refreshBudgetMs: number;
  /** The defaults suit production; tests shorten them. */
  timings?: Partial<CoalescerTimings>;
}

type Waited = { answer: SharedAnswer } | 'lock gone' | 'gave up';
/** How a flight ended for this caller: the answer, and whether another replica's call produced it. */
type Settled = { answer: SharedAnswer; shared: boolean };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One refresh token's flight across replicas: its keys, and the steps an owner or a waiter takes. */
interface Flight {
  redis: Redis;
  report: RedisConnection['report'];
  timings: CoalescerTimings;
  id: string;
  secret: string;
  lockKey: string;
  answerKey: string;
  /** performance.now() past which a waiter stops waiting. */
  waitUntil: number;
}

function openStored(flight: Flight, stored: string | null): Promise<SharedAnswer | undefined> {
  return stored === null ? Promise.resolve(undefined) : openAnswer(stored, flight.secret, flight.id);
}

/** Publishes the answer and lets the lock go in one round trip, in this order on the connection. */
async function settle(
  flight: Flight,
  lease: Lease | undefined,
  answer: SharedAnswer | undefined,
): Promise<void> {
  // Sealed first, so that both commands leave together: a waiter that then sees the lock gone finds
  // the answer already there.
  const sealed = answer && (await sealAnswer(answer, flight.secret, flight.id).catch(() => undefined));
  const ttl = answer && answer.status < 500 ? ANSWER_TTL_MS : ERROR_ANSWER_TTL_MS;
  await Promise.all([
    sealed &&
      flight.redis
        .set(flight.answerKey, sealed, 'PX', ttl)
        .catch((error: unknown) => flight.report(false, error)),
    lease?.release(),
  ]);
}

/** Produces the answer (holding `lease`, when there is one); whatever happens, the lock goes. */
async function produceAndSettle(
  flight: Flight,
  lease: Lease | undefined,
  produce: () => Promise<SharedAnswer>,
): Promise<SharedAnswer> {
  let answer: SharedAnswer | undefined;
  try {
    answer = await produce();
    return answer;
  } finally {
    await settle(flight, lease, answer);
  }
}

/** Polls until the owner's answer is there, the lock goes, or waiting is no longer worth it. */
async function waitForOwner(flight: Flight): Promise<Waited> {
  const { redis, timings } = flight;
  let notALeaseSince: number | undefined;
  while (performance.now() < flight.waitUntil) {
    await sleep(timings.pollMs);
    // PTTL before GET on the one connection: an owner publishes before it releases, so a lock seen
    // gone here means its answer, if it had one, is there for the GET.
    const [ttl, stored] = await Promise.all([redis.pttl(flight.lockKey), redis.get(flight.answerKey)]);
    const answer = await openStored(flight, stored);
    if (answer) return { answer };
    if (ttl === -2) return 'lock gone';
    // A lease never lives longer than leaseMs: this lock's owner, if any, is not renewing one.
    if (ttl === -1 || ttl > timings.leaseMs) {
      notALeaseSince ??= performance.now();
      if (performance.now() - notALeaseSince >= timings.leaseMs) return 'gave up';
    }
  }
  return 'gave up';
}

export function createRedisCoalescer(connection: RedisConnection, options: RedisCoalescerOptions): Coalescer {
  const timings: CoalescerTimings = { ...DEFAULT_COALESCER_TIMINGS, ...options.timings };
  const lock = createLeaseLock(connection, timings);
  const local = createLocalCoalescer();

  /** One attempt to own the flight: the answer, or `undefined` when another replica owns it. */
  async function own(
    flight: Flight,
    produce: () => Promise<SharedAnswer>,
  ): Promise<{ answer: SharedAnswer; shared: boolean } | undefined> {
    const owner = randomToken(16);
    let acquired: boolean;
    let found: SharedAnswer | undefined;
    try {
      // SET before GET on the one connection: a lock taken right after another owner released it
      // comes with that owner's answer, if it had one.
      const [won, stored] = await Promise.all([
        lock.acquire(flight.lockKey, owner),
        flight.redis.get(flight.answerKey),
      ]);
      acquired = won;
      found = await openStored(flight, stored);
    } catch (error) {
      flight.report(false, error);
      // The SET may have timed out here and still run on the server: act as its owner, so that such
      // a lock is renewed only while this call runs and goes when it ends.
      return {
        answer: await produceAndSettle(flight, lock.hold(flight.lockKey, owner), produce),
        shared: false,
      };
    }
    if (found) {
      if (acquired) await lock.release(flight.lockKey, owner);
      return { answer: found, shared: true };
    }
    if (acquired)
      return {
        answer: await produceAndSettle(flight, lock.hold(flight.lockKey, owner), produce),
        shared: false,
      };
    return undefined;
  }

  /** Another replica is calling Spotify with this token: its answer, or `undefined` to try again. */
  async function follow(flight: Flight, produce: () => Promise<SharedAnswer>): Promise<Settled | undefined> {
    let waited: Waited;
    try {
      waited = await waitForOwner(flight);
    } catch (error) {
      flight.report(false, error);
      return { answer: await produce(), shared: false };
    }
    if (waited === 'gave up')
      return { answer: await produceAndSettle(flight, undefined, produce), shared: false };
    return waited === 'lock gone' ? undefined : { answer: waited.answer, shared: true };
  }

  async function sharedRun(
    id: string,
    secret: string,
    produce: () => Promise<SharedAnswer>,
    onShared: ((scope: 'local' | 'shared') => void) | undefined,
  ): Promise<SharedAnswer> {
    const flight: Flight = {
      redis: connection.client,
      report: connection.report,
      timings,
      id,
      secret,
      lockKey: `${KEY_PREFIX}refresh:lock:${id}`,
      answerKey: `${KEY_PREFIX}refresh:answer:${id}`,
      waitUntil: performance.now() + options.refreshBudgetMs,
    };
    for (;;) {
      const settled = (await own(flight, produce)) ?? (await follow(flight, produce));
      if (settled) {
        if (settled.shared) onShared?.('shared');
        return settled.answer;
      }
      // The owner let go without an answer (producing threw), or its lease ran out: try again.
    }
  }

  return {
    run(key, produce, onShared) {
      return local.run(
        key,
        async () => sharedRun(await key.digest(), key.secret, produce, onShared),
        onShared,
      );
    },
  };
}
