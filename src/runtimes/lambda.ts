/**
 * AWS Lambda entry (API Gateway REST v1 and HTTP v2 events, Lambda function URLs, ALB):
 * `handler` in dist/runtimes/lambda.js. The app is built once per execution environment and reused
 * across invocations; rate limits and refresh single flight live in that environment's memory
 * unless REDIS_URL is set (then they are shared by every environment).
 */
import { getConnInfo, handle, type LambdaEvent } from 'hono/aws-lambda';
import { noopMetrics } from '../server/metrics.js';
import { createConsoleLogger } from './console-logger.js';
import { nodeAppOptions } from './node/app-options.js';
import { type Built, buildApp, misconfigured } from './portable.js';

let built: Built | undefined;
let handle_: ReturnType<typeof handle> | undefined;

/**
 * Lambda runs Node: the same options as the Node server, but for the metrics (no /metrics here),
 * the peer address (the event's `sourceIp`) and upstream calls (the runtime's `fetch`).
 */
function build(): Built {
  return buildApp(
    process.env,
    (config) =>
      nodeAppOptions(config, {
        logger: createConsoleLogger(config.logLevel),
        metrics: noopMetrics,
        getConnInfo,
      }).options,
  );
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
