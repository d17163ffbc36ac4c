/**
 * What the two entries that run on Node, the server (service.ts) and AWS Lambda (../lambda.ts),
 * give `createApp` alike: Redis shared state when REDIS_URL is set, node:crypto sealing, the Ruby
 * service's tokens, readiness, and the peer address as their adapter reads it. What differs comes
 * in: the logger, the metrics, the adapter's `getConnInfo`, the upstream `fetch`.
 */
import { createHash } from 'node:crypto';
import type { GetConnInfo } from 'hono/conninfo';
import type { AppOptions } from '../../server/app.js';
import { refreshBudgetMs, type ServiceConfig } from '../../server/config/index.js';
import type { Logger } from '../../server/logger.js';
import { createMemoryLoginStore } from '../../server/logins/store.js';
import type { Metrics } from '../../server/metrics.js';
import type { UpstreamFetch } from '../../server/upstream/token-request.js';
import { createLegacyUnsealer } from './legacy-sealing.js';
import { createRedisSharedState, type RedisSharedState } from './redis/index.js';
import { createNodeSealer } from './sealing.js';

export interface NodeAppInput {
  logger: Logger;
  metrics: Metrics;
  /** The adapter's: @hono/node-server/conninfo for a socket, hono/aws-lambda for an event. */
  getConnInfo: GetConnInfo;
  /** Default: the runtime's `fetch`. */
  fetch?: UpstreamFetch;
  /**
   * Without REDIS_URL, keep revocations and rotations in this process's memory: right for a
   * long-running server, meaningless for Lambda's short-lived instances (which then have none).
   */
  memoryLogins: boolean;
  /** The clock of login lifetimes; injectable for tests. */
  now?: () => number;
}

export interface NodeAppOptions {
  options: AppOptions;
  /** Present when REDIS_URL is set; its owner closes it. */
  shared: RedisSharedState | undefined;
}

export function nodeAppOptions(config: ServiceConfig, input: NodeAppInput): NodeAppOptions {
  const { logger, metrics, getConnInfo } = input;
  const shared = config.redisUrl
    ? createRedisSharedState(config.redisUrl, { logger, metrics, refreshBudgetMs: refreshBudgetMs(config) })
    : undefined;
  return {
    shared,
    options: {
      logger,
      metrics,
      fetch: input.fetch,
      rateLimitStore: shared?.rateLimitStore,
      coalescer: shared?.coalescer,
      loginStore:
        shared?.loginStore ?? (input.memoryLogins ? createMemoryLoginStore({ now: input.now }) : undefined),
      now: input.now,
      readiness: shared ? () => shared.readiness() : undefined,
      // node:crypto seals for a third of WebCrypto's CPU, and opens the Ruby service's 3DES tokens
      // (LEGACY_ENCRYPTION_SECRET), which WebCrypto cannot.
      createSealer: createNodeSealer,
      // WebCrypto's digest costs about twenty times node:crypto's for a login key (docs/benchmarks.md).
      sha256: (text) => createHash('sha256').update(text).digest('base64url'),
      legacyUnsealer: createLegacyUnsealer,
      clientAddress: (c) => {
        try {
          return getConnInfo(c).remote.address;
        } catch {
          return undefined;
        }
      },
    },
  };
}
