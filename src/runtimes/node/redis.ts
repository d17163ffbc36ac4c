/**
 * Redis-backed shared state, so that replicas behind one load balancer act as one service:
 * - rate-limit budgets shared by all replicas (an atomic INCR + PEXPIRE script);
 * - refresh coalescing across replicas: one replica calls Spotify, the others wait for its answer,
 *   which is kept in Redis for a few seconds only, encrypted with a key derived from the refresh
 *   token itself (a Redis reader who does not hold that token learns nothing).
 *
 * Redis is a helper, never a dependency of an answer: when it is unreachable, rate limits fall back
 * to per-process memory and coalescing to per-process single flight, the service keeps serving, and
 * /readyz and the `token_swap_shared_store_up` metric say so.
 */
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import { type Coalescer, createLocalCoalescer, type SharedAnswer } from '../../server/coalesce.js';
import type { Logger } from '../../server/logger.js';
import type { Metrics } from '../../server/metrics.js';
import {
  createFailoverRateLimitStore,
  createMemoryRateLimitStore,
  type RateLimitStore,
} from '../../server/rate-limit.js';
import type { ReadinessCheck } from '../../server/readiness.js';
import { base64url, fromBase64url, fromUtf8, randomBytes, randomToken, utf8 } from '../../shared/encoding.js';

const KEY_PREFIX = 'token-swap:';
/** How long a finished refresh answer stays for replicas that asked at the same moment. */
const ANSWER_TTL_MS = 3_000;
const POLL_MS = 20;

const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}`;

const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

type SharedRedis = Redis & {
  tokenSwapHit(key: string, windowMs: number): Promise<[number, number]>;
  tokenSwapRelease(key: string, owner: string): Promise<number>;
};

export interface RedisSharedState {
  rateLimitStore: RateLimitStore;
  coalescer: Coalescer;
  readiness(): Promise<Record<string, ReadinessCheck>>;
  /** Resolves once connected, or after `timeoutMs` (the service serves either way). */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface RedisOptions {
  logger: Logger;
  metrics: Metrics;
  /** Upper bound of one refresh upstream, retry included: how long replicas wait for the owner. */
  refreshBudgetMs: number;
}

async function answerKey(secret: string, id: string, usage: KeyUsage[]): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', utf8(secret), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: utf8('token-swap shared refresh answer'), info: utf8(id) },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    usage,
  );
}

async function seal(answer: SharedAnswer, secret: string, id: string): Promise<string> {
  const iv = randomBytes(12);
  const key = await answerKey(secret, id, ['encrypt']);
  const data = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, utf8(JSON.stringify(answer))),
  );
  return `${base64url(iv)}.${base64url(data)}`;
}

async function open(stored: string, secret: string, id: string): Promise<SharedAnswer | undefined> {
  const [ivText = '', dataText = ''] = stored.split('.');
  const iv = fromBase64url(ivText);
  const data = fromBase64url(dataText);
  if (!iv || !data) return undefined;
  try {
    const key = await answerKey(secret, id, ['decrypt']);
    return JSON.parse(
      fromUtf8(new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, key, data))),
    );
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * ioredis is loaded only when Redis is configured: it adds about 20 MB to a process that has no use
 * for it (and to every Lambda cold start).
 */
const loadIoredis = (): typeof import('ioredis') => createRequire(import.meta.url)('ioredis');

export function createRedisSharedState(url: string, options: RedisOptions): RedisSharedState {
  const { logger, metrics } = options;
  const { Redis } = loadIoredis();
  const redis = new Redis(url, {
    // Fail fast while disconnected instead of queueing: the fallback answers meanwhile.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 500,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(100 * times, 2_000),
  }) as SharedRedis;
  redis.defineCommand('tokenSwapHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
  redis.defineCommand('tokenSwapRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });

  let up = false;
  const report = (nowUp: boolean, error?: unknown) => {
    if (nowUp === up) return;
    up = nowUp;
    metrics.sharedStoreUp(nowUp);
    if (nowUp) {
      logger.info({ sharedStore: 'redis' }, 'Redis is reachable: rate limits and coalescing are shared');
    } else {
      logger.warn(
        { sharedStore: 'redis', errorName: (error as Error | undefined)?.name },
        'Redis is unreachable: falling back to per-process rate limits and coalescing',
      );
    }
  };
  metrics.sharedStoreUp(false);
  redis.on('ready', () => report(true));
  // Without a listener, an 'error' event would end the process.
  redis.on('error', (error) => report(false, error));
  redis.on('end', () => report(false));

  const redisStore: RateLimitStore = {
    async increment(clientKey, { name, windowMs }) {
      const [count, ttl] = await redis.tokenSwapHit(`${KEY_PREFIX}rate:${name}:${clientKey}`, windowMs);
      return { count, resetMs: ttl };
    },
  };
  const rateLimitStore = createFailoverRateLimitStore(
    redisStore,
    createMemoryRateLimitStore(),
    (primaryUp, error) => report(primaryUp, error),
  );

  const local = createLocalCoalescer();
  const coalescer: Coalescer = {
    run(key, produce, onShared) {
      // Single flight in this process first; across processes only the first local caller asks Redis.
      return local.run(
        key,
        async () => sharedRun(await key.digest(), key.secret, produce, onShared),
        onShared,
      );
    },
  };

  async function sharedRun(
    id: string,
    secret: string,
    produce: () => Promise<SharedAnswer>,
    onShared: ((scope: 'local' | 'shared') => void) | undefined,
  ): Promise<SharedAnswer> {
    const lockKey = `${KEY_PREFIX}refresh:lock:${id}`;
    const answerKeyName = `${KEY_PREFIX}refresh:answer:${id}`;
    const owner = randomToken(16);
    let acquired: boolean;
    try {
      const stored = await redis.get(answerKeyName);
      const ready = stored ? await open(stored, secret, id) : undefined;
      if (ready) {
        onShared?.('shared');
        return ready;
      }
      acquired = (await redis.set(lockKey, owner, 'PX', options.refreshBudgetMs, 'NX')) === 'OK';
    } catch (error) {
      report(false, error);
      return produce();
    }

    if (acquired) {
      const answer = await produce();
      try {
        // Errors are kept shorter: a waiter should not inherit a stale outage for long.
        const ttl = answer.status < 500 ? ANSWER_TTL_MS : 1_000;
        await redis.set(answerKeyName, await seal(answer, secret, id), 'PX', ttl);
        await redis.tokenSwapRelease(lockKey, owner);
      } catch (error) {
        report(false, error);
      }
      return answer;
    }

    // Another replica is calling Spotify with this token: wait for its answer.
    const deadline = Date.now() + options.refreshBudgetMs;
    try {
      while (Date.now() < deadline) {
        await sleep(POLL_MS);
        const stored = await redis.get(answerKeyName);
        const answer = stored ? await open(stored, secret, id) : undefined;
        if (answer) {
          onShared?.('shared');
          return answer;
        }
        if ((await redis.exists(lockKey)) === 0) break;
      }
    } catch (error) {
      report(false, error);
    }
    // The owner vanished without an answer, or Redis did: ask Spotify ourselves.
    return produce();
  }

  return {
    rateLimitStore,
    coalescer,
    async readiness() {
      try {
        await redis.ping();
        report(true);
        return { redis: { ok: true, detail: 'reachable' } };
      } catch (error) {
        report(false, error);
        return { redis: { ok: false, detail: `unreachable (${redis.status})` } };
      }
    },
    ready(timeoutMs) {
      if (redis.status === 'ready') return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        redis.once('ready', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    },
    async close() {
      redis.disconnect();
    },
  };
}
