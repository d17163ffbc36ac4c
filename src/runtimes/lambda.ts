/**
 * AWS Lambda entry (API Gateway REST v1 and HTTP v2 events, Lambda function URLs, ALB):
 * `handler`, bundled by scripts/build-lambda.mjs into build/lambda.zip's index.mjs (the package
 * template.yaml deploys; dist/runtimes/lambda.js is the same entry unbundled). The app is built once per execution environment and reused
 * across invocations; rate limits and refresh single flight live in that environment's memory
 * unless REDIS_URL is set (then they are shared by every environment).
 */
import { getConnInfo, handle, type LambdaEvent } from 'hono/aws-lambda';
import { noopMetrics } from '../server/metrics.js';
import { createConsoleLogger } from './console-logger.js';
import { nodeAppOptions } from './node/app-options.js';
import type { RedisSharedState } from './node/redis/index.js';
import { type Built, buildApp, misconfigured } from './portable.js';

/** Long enough to connect to a reachable Redis, TLS included; a cold start pays it at most once. */
const REDIS_READY_MS = 1_000;

let built: Built | undefined;
let connected: Promise<boolean> | undefined;
let handle_: ReturnType<typeof handle> | undefined;

/**
 * Lambda runs Node: the same options as the Node server, but for the metrics (no /metrics here),
 * the peer address (the event's `sourceIp`) and upstream calls (the runtime's `fetch`).
 */
function build(): { built: Built; shared: RedisSharedState | undefined } {
  const holder: { shared?: RedisSharedState } = {};
  const result = buildApp(process.env, (config) => {
    const node = nodeAppOptions(config, {
      logger: createConsoleLogger(config.logLevel),
      metrics: noopMetrics,
      getConnInfo,
      // An instance lives minutes: revocations in its memory would be forgotten at random.
      memoryLogins: false,
    });
    holder.shared = node.shared;
    return node.options;
  });
  return { built: result, shared: holder.shared };
}

export async function handler(event: LambdaEvent, context?: unknown) {
  if (!built) {
    const fresh = build();
    built = fresh.built;
    // As the Node server waits before it listens: commands fail at once until Redis is connected
    // (no offline queue), so without this wait an environment's first event would be counted and
    // coalesced in its own memory only.
    connected = fresh.shared?.ready(REDIS_READY_MS);
  }
  await connected;
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
