/**
 * The service as Node runs it: the portable app plus what only Node has here: prom-client metrics,
 * Redis-backed shared state when REDIS_URL is set, and the socket's peer address for rate limits.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Hono } from 'hono';
import { createApp, type Mount } from '../../server/app.js';
import type { ServiceConfig } from '../../server/config.js';
import type { Logger } from '../../server/logger.js';
import type { Metrics } from '../../server/metrics.js';
import type { UpstreamFetch } from '../../server/upstream.js';
import { createLegacyUnsealer } from './legacy-sealing.js';
import { createPromMetrics } from './metrics.js';
import { createRedisSharedState, type RedisSharedState } from './redis/index.js';
import { createNodeSealer } from './sealing.js';
import { createNodeUpstream } from './upstream-client.js';

export interface NodeServiceOptions {
  logger: Logger;
  version?: string;
  mounts?: readonly Mount[];
  /** Default: node:http over keep-alive agents (upstream-client.ts). */
  fetch?: UpstreamFetch;
  /** Default: prom-client with Node's process metrics. */
  metrics?: Metrics;
}

export interface NodeService {
  app: Hono;
  metrics: Metrics;
  shared: RedisSharedState | undefined;
  close(): Promise<void>;
}

export function createNodeService(config: ServiceConfig, options: NodeServiceOptions): NodeService {
  const metrics = options.metrics ?? createPromMetrics();
  const upstreamTimeoutMs = Math.max(...config.apps.map((app) => app.upstreamTimeoutMs));
  const shared = config.redisUrl
    ? createRedisSharedState(config.redisUrl, {
        logger: options.logger,
        metrics,
        // Two attempts and the pause between them.
        refreshBudgetMs: upstreamTimeoutMs * 2 + 1_000,
      })
    : undefined;
  const upstream = options.fetch ? undefined : createNodeUpstream();
  const app = createApp(config, {
    logger: options.logger,
    version: options.version,
    mounts: options.mounts,
    fetch: options.fetch ?? upstream?.fetch,
    metrics,
    rateLimitStore: shared?.rateLimitStore,
    coalescer: shared?.coalescer,
    readiness: shared ? () => shared.readiness() : undefined,
    createSealer: createNodeSealer,
    legacyUnsealer: createLegacyUnsealer,
    clientAddress: (c) => {
      try {
        return getConnInfo(c).remote.address;
      } catch {
        return undefined;
      }
    },
  }) as unknown as Hono;
  return {
    app,
    metrics,
    shared,
    close: async () => {
      upstream?.close();
      await shared?.close();
    },
  };
}
