/**
 * The replica's one Redis connection, and what it tells about Redis' health: every store reports
 * what it saw through `report`, which logs a change once and keeps `token_swap_shared_store_up`
 * right; /readyz asks `readiness`.
 *
 * Redis is a helper, never a dependency of an answer: commands fail fast while it is away (no
 * offline queue, no retries, a short command timeout), so that the fallbacks answer meanwhile.
 */
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { Logger } from '../../../server/logger.js';
import type { Metrics } from '../../../server/metrics.js';
import type { ReadinessCheck } from '../../../server/readiness.js';

/** Every key this service writes starts with it, so that a shared Redis can tell them apart. */
export const KEY_PREFIX = 'token-swap:';

/**
 * How long one command may take before it counts as a failure. A timed-out command may still run
 * later on the server: whatever it writes must be safe to find there (see lease.ts).
 */
export const COMMAND_TIMEOUT_MS = 500;

export interface RedisConnection {
  client: Redis;
  /** Records that Redis answered (`true`) or failed (`false`); only a change is logged. */
  report(up: boolean, error?: unknown): void;
  readiness(): Promise<Record<string, ReadinessCheck>>;
  /** Resolves once connected, or with `false` after `timeoutMs` (the service serves either way). */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface ConnectionOptions {
  logger: Logger;
  metrics: Metrics;
}

/**
 * ioredis is loaded only when Redis is configured: it adds about 20 MB to a process that has no use
 * for it (and to every Lambda cold start).
 */
const loadIoredis = (): typeof import('ioredis') => createRequire(import.meta.url)('ioredis');

export function connectRedis(url: string, { logger, metrics }: ConnectionOptions): RedisConnection {
  const { Redis } = loadIoredis();
  const client = new Redis(url, {
    // Fail fast while disconnected instead of queueing: the fallback answers meanwhile.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(100 * times, 2_000),
  });

  let up = false;
  const report = (nowUp: boolean, error?: unknown) => {
    if (nowUp === up) return;
    up = nowUp;
    metrics.sharedStoreUp(nowUp);
    if (nowUp) {
      logger.info({ sharedStore: 'redis' }, 'Redis is reachable: rate limits and coalescing are shared');
    } else {
      // The error's name only: its message may name the host, and the URL may hold a password.
      logger.warn(
        { sharedStore: 'redis', errorName: (error as Error | undefined)?.name },
        'Redis is unreachable: falling back to per-process rate limits and coalescing',
      );
    }
  };
  metrics.sharedStoreUp(false);
  client.on('ready', () => report(true));
  // Without a listener, an 'error' event would end the process.
  client.on('error', (error) => report(false, error));
  client.on('end', () => report(false));

  return {
    client,
    report,
    async readiness() {
      try {
        await client.ping();
        report(true);
        return { redis: { ok: true, detail: 'reachable', shared: true } };
      } catch (error) {
        report(false, error);
        return { redis: { ok: false, detail: `unreachable (${client.status})`, shared: true } };
      }
    },
    ready(timeoutMs) {
      if (client.status === 'ready') return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        client.once('ready', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    },
    async close() {
      client.disconnect();
    },
  };
}
