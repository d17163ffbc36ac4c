/**
 * AWS Lambda entry (API Gateway REST v1 and HTTP v2 events, Lambda function URLs, ALB):
 * `handler` in dist/runtimes/lambda.js. The app is built once per execution environment and reused
 * across invocations; rate limits and refresh single flight live in that environment's memory
 * unless REDIS_URL is set (then they are shared by every environment).
 */
import type { Context } from 'hono';
import { getConnInfo, handle, type LambdaEvent } from 'hono/aws-lambda';
import { noopMetrics } from '../server/metrics.js';
import { createConsoleLogger } from './console-logger.js';
import { createLegacyUnsealer } from './node/legacy-sealing.js';
import { createRedisSharedState } from './node/redis/index.js';
import { createNodeSealer } from './node/sealing.js';
import { type Built, buildApp, misconfigured } from './portable.js';

let built: Built | undefined;
let handle_: ReturnType<typeof handle> | undefined;

function build(): Built {
  return buildApp(process.env, (config) => {
    const shared = config.redisUrl
      ? createRedisSharedState(config.redisUrl, {
          logger: createConsoleLogger(config.logLevel),
          metrics: noopMetrics,
          refreshBudgetMs: Math.max(...config.apps.map((app) => app.upstreamTimeoutMs)) * 2 + 1_000,
        })
      : undefined;
    return {
      // Lambda runs Node: node:crypto seals for a third of WebCrypto's CPU, and opens the Ruby
      // service's 3DES tokens (LEGACY_ENCRYPTION_SECRET), which WebCrypto cannot.
      createSealer: createNodeSealer,
      legacyUnsealer: createLegacyUnsealer,
      rateLimitStore: shared?.rateLimitStore,
      coalescer: shared?.coalescer,
      readiness: shared ? () => shared.readiness() : undefined,
      clientAddress: (c: Context) => {
        try {
          return getConnInfo(c).remote.address;
        } catch {
          return undefined;
        }
      },
    };
  });
}

export async function handler(event: LambdaEvent, context?: unknown) {
  built ??= build();
  if ('error' in built) {
    const response = misconfigured(built.error);
    return {
      statusCode: response.status,
      headers: Object.fromEntries(response.headers),
      body: await response.text(),
      isBase64Encoded: false,
    };
  }
  handle_ ??= handle(built.app);
  return handle_(event, context as never);
}
