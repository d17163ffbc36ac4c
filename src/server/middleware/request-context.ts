/**
 * The first middleware of every request: a request id (the client's when it is sane, else a fresh
 * UUID) on the context, the answer and every log line; then, once answered, one access log line and
 * the request metrics, labelled with the route pattern that matched (a bounded set), never the path
 * as the client typed it.
 */
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { withHeaders } from '../answer.js';
import { REQUEST_ID_PATTERN } from '../contract.js';
import { childLogger, type Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { replaceResponse } from './replace-response.js';

export interface RequestContextVariables {
  requestId: string;
  log: Logger;
}

export interface RequestContextOptions {
  logger: Logger;
  metrics: Metrics;
}

/** The label of a request nothing but the catch-all middleware matched. */
const UNMATCHED_ROUTE = 'unmatched';

/** The longest path a log line shows: the path only, a query string could carry a misplaced code. */
const MAX_LOGGED_PATH = 200;

export function requestContext(
  options: RequestContextOptions,
): MiddlewareHandler<{ Variables: RequestContextVariables }> {
  const { logger, metrics } = options;
  return async function requestContext(c, next) {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    const requestId =
      incoming !== undefined && REQUEST_ID_PATTERN.test(incoming) ? incoming : crypto.randomUUID();
    const log = childLogger(logger, { reqId: requestId });
    c.set('requestId', requestId);
    c.set('log', log);
    await next();
    replaceResponse(
      c,
      withHeaders(c.res, { 'X-Request-Id': requestId, 'X-Content-Type-Options': 'nosniff' }),
    );
    const durationMs = performance.now() - started;
    const pattern = routePath(c);
    const route = pattern === '/*' || pattern === '*' || pattern === '' ? UNMATCHED_ROUTE : pattern;
    metrics.request(route, c.req.method, c.res.status, durationMs / 1000);
    // The request's logger as the handlers left it: a traced request's carries its trace and span ids.
    c.get('log').info(
      {
        method: c.req.method,
        path: c.req.path.slice(0, MAX_LOGGED_PATH),
        status: c.res.status,
        durationMs: Math.round(durationMs * 10) / 10,
      },
      'request',
    );
  };
}
