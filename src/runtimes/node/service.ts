/**
 * The service as Node runs it: the portable app plus what only Node has here: prom-client metrics,
 * Redis-backed shared state when REDIS_URL is set, OpenTelemetry traces when the OTEL_* variables ask
 * for them, and the socket's peer address for rate limits.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Hono } from 'hono';
import { createApp, type Mount } from '../../server/app.js';
import type { ServiceConfig } from '../../server/config/index.js';
import type { Logger } from '../../server/logger.js';
import { loginStoreNotice } from '../../server/logins/store.js';
import type { Metrics } from '../../server/metrics.js';
import type { ReadinessCheck } from '../../server/readiness.js';
import type { UpstreamFetch } from '../../server/upstream/token-request.js';
import { nodeAppOptions } from './app-options.js';
import { createPromMetrics } from './metrics.js';
import type { ProtocolAnswer } from './protocol-errors.js';
import type { RedisSharedState } from './redis/index.js';
import { createNodeTracing, type NodeTracing } from './tracing.js';
import { createNodeUpstream } from './upstream-client.js';

export interface NodeServiceOptions {
  logger: Logger;
  version?: string;
  mounts?: readonly Mount[];
  /** Default: node:http over keep-alive agents (upstream-client.ts). */
  fetch?: UpstreamFetch;
  /** Default: prom-client with Node's process metrics. */
  metrics?: Metrics;
  /** Whether the server is shutting down: then /readyz says this replica is not ready. */
  draining?: () => boolean;
  /** The clock of login lifetimes, idle limits and the reuse grace; injectable for tests. */
  now?: () => number;
}

export interface NodeService {
  app: Hono;
  metrics: Metrics;
  shared: RedisSharedState | undefined;
  /** Logs and counts an answer Node or the adapter gave before the app ran (server.ts). */
  protocolAnswer(answer: ProtocolAnswer): void;
  /** Present when the configuration traces (`config.tracing`). */
  tracing: NodeTracing | undefined;
  /** Releases the upstream connections and Redis, and exports the spans still buffered. */
  close(): Promise<void>;
}

/** The route label of the answers given before any route could match. */
const PROTOCOL_ROUTE = 'protocol_error';

export function createNodeService(config: ServiceConfig, options: NodeServiceOptions): NodeService {
  const metrics = options.metrics ?? createPromMetrics({ version: options.version });
  const tracing = config.tracing
    ? createNodeTracing(config.tracing, { logger: options.logger, version: options.version ?? '0.0.0' })
    : undefined;
  const upstream = options.fetch ? undefined : createNodeUpstream();
  const { options: appOptions, shared } = nodeAppOptions(config, {
    logger: options.logger,
    metrics,
    getConnInfo,
    fetch: options.fetch ?? upstream?.fetch,
    memoryLogins: true,
    now: options.now,
  });
  const notice = loginStoreNotice(appOptions.loginStore);
  options.logger[notice.level]({}, notice.message);
  const { draining } = options;
  const readiness = async (): Promise<Record<string, ReadinessCheck>> => ({
    ...(draining
      ? {
          server: draining()
            ? { ok: false, detail: 'shutting down', shared: false }
            : { ok: true, detail: 'serving', shared: false },
        }
      : {}),
    ...(await appOptions.readiness?.()),
  });
  const app = createApp(config, {
    ...appOptions,
    readiness: draining || appOptions.readiness ? readiness : undefined,
    version: options.version,
    mounts: options.mounts,
    tracing,
  }) as unknown as Hono;
  return {
    app,
    metrics,
    shared,
    protocolAnswer({ status, reason }) {
      metrics.request(PROTOCOL_ROUTE, '-', status, 0);
      options.logger.info({ status, reason }, 'answered before the app: not a valid request');
    },
    tracing,
    close: async () => {
      upstream?.close();
      await shared?.close();
      // Last: the requests that finished during the shutdown have their spans in the buffer.
      await tracing?.shutdown();
    },
  };
}
