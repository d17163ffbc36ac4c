/**
 * The server span of one token request, around everything that answers it (CORS, the rate limit, the
 * body limit, the handler): named and labelled by the route pattern the app mounted, continuing the
 * caller's W3C trace context, and ended with the status the client got. The request's log lines carry
 * its ids from here on, so a log line leads to its trace.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { Grant } from '../contract.js';
import { childLogger, type Logger } from '../logger.js';
import { endRequestSpan, type RequestSpan, requestSpanStart, type Tracing } from '../tracing.js';

export interface TraceRequestVariables {
  requestId: string;
  log: Logger;
  span: RequestSpan | undefined;
}

export interface TraceRequestOptions {
  tracing: Tracing;
  /** The service's logger, whose request child (request-context.ts) this replaces. */
  logger: Logger;
  /** The route pattern, e.g. `/apps/:app/swap`: the span's name and `http.route`. */
  route: string;
  /** Undefined where the body says it (POST /token): the handler sets it then. */
  grant: Grant | undefined;
  /** The app that serves the request: known once the route matched. */
  appName: (c: Context) => string;
}

export function traceRequest(
  options: TraceRequestOptions,
): MiddlewareHandler<{ Variables: TraceRequestVariables }> {
  const { tracing, logger, route, grant, appName } = options;
  return async function traceRequest(c, next) {
    const { name, attributes } = requestSpanStart(c.req.raw, route, { grant, name: appName(c) });
    const span = tracing.startRequest(name, attributes, {
      traceparent: c.req.header('traceparent'),
      tracestate: c.req.header('tracestate'),
    });
    c.set('span', span);
    // A child of the service's logger, not of the request's: pino makes a child of a child at ten
    // times the cost.
    const bindings = { reqId: c.get('requestId'), trace_id: span.traceId, span_id: span.spanId };
    c.set('log', childLogger(logger, bindings));
    try {
      await next();
    } finally {
      // Hono turns a thrown error into the answer before this runs: its status is what the client got.
      endRequestSpan(span, c.res.status);
    }
  };
}
