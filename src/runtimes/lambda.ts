/**
 * AWS Lambda entry (API Gateway REST v1 and HTTP v2 events, Lambda function URLs, ALB):
 * `handler`, bundled by scripts/build-lambda.mjs into build/lambda.zip's index.mjs (the package
 * template.yaml deploys; dist/runtimes/lambda.js is the same entry unbundled). The app is built once
 * per execution environment, when the module loads, and reused across invocations; rate limits and
 * refresh single flight live in that environment's memory unless REDIS_URL is set (then they are
 * shared by every environment).
 */
import { getConnInfo, handle, type LambdaEvent } from 'hono/aws-lambda';
import type { ConfigError } from '../server/config/index.js';
import { noopMetrics } from '../server/metrics.js';
import { createConsoleLogger } from './console-logger.js';
import { nodeAppOptions } from './node/app-options.js';
import type { RedisSharedState } from './node/redis/index.js';
import { createNodeUpstream } from './node/upstream-client.js';
import { type Built, buildApp, compileRouter, misconfigured } from './portable.js';

/** Long enough to connect to a reachable Redis, TLS included; a cold start pays it at most once. */
const REDIS_READY_MS = 1_000;

/**
 * Lambda runs Node: the same options as the Node server, but for the metrics (no /metrics here) and
 * the peer address (the event's `sourceIp`). Upstream calls go through the Node server's `node:http`
 * client too, not the runtime's `fetch`: a first refresh spends about 14 ms less CPU with it
 * (docs/benchmarks.md, "AWS Lambda package"), and every later call less as well.
 */
function build(): { built: Built; shared: RedisSharedState | undefined } {
  const holder: { shared?: RedisSharedState } = {};
  const built = buildApp(process.env, (config) => {
    const node = nodeAppOptions(config, {
      logger: createConsoleLogger(config.logLevel),
      metrics: noopMetrics,
      getConnInfo,
      fetch: createNodeUpstream().fetch,
      // An instance lives minutes: revocations in its memory would be forgotten at random.
      memoryLogins: false,
    });
    holder.shared = node.shared;
    return node.options;
  });
  if ('app' in built) compileRouter(built.app);
  return { built, shared: holder.shared };
}

/** Every event's answer while the configuration is invalid. */
function answerMisconfigured(error: ConfigError) {
  return async () => {
    const response = misconfigured(error);
    return {
      statusCode: response.status,
      headers: Object.fromEntries(response.headers),
      body: await response.text(),
      isBase64Encoded: false,
    };
  };
}

/**
 * Built at module load: Lambda runs a module's load as the environment's init phase, before the
 * first invocation (with provisioned concurrency, before any traffic), which then does not pay for
 * the build or the router
 * (docs/benchmarks.md, "AWS Lambda package"). A configuration error is kept, never thrown: a crashing
 * init makes Lambda retry it and log a stack, where each event should get the misconfigured answer.
 */
const { built, shared } = build();
// Node loads its Web classes (Request, Response, Headers: undici) at the first use of one, about 35 ms
// of CPU, which every event's answer needs: here, in the init phase, not in the first event.
new Headers();
const serve = 'app' in built ? handle(built.app) : answerMisconfigured(built.error);
let connected: Promise<boolean> | undefined;

export async function handler(event: LambdaEvent, context?: unknown) {
  // As the Node server waits before it listens: commands fail at once until Redis is connected
  // (no offline queue), so without this wait an environment's first event would be counted and
  // coalesced in its own memory only. The connection began at init; the wait begins at the first
  // event, as an environment may stay initialized long before it (provisioned concurrency).
  connected ??= shared?.ready(REDIS_READY_MS);
  await connected;
  return serve(event, context as never);
}
