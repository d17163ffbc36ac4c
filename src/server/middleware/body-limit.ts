/**
 * A hard limit on request bodies. A declared length is judged from the header alone, as Hono's own
 * bodyLimit judges it: the HTTP server never hands over more bytes than Content-Length says. Not
 * touching the body keeps the Node adapter's fast path (it reads the socket straight into a string
 * instead of building a Web stream); only a chunked body is counted as it streams in.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit as streamedBodyLimit } from 'hono/body-limit';
import { errorResponse, OAuthError } from '../errors.js';

export interface BodyLimitOptions {
  maxBytes: number;
}

export function bodyLimit(options: BodyLimitOptions): MiddlewareHandler {
  const { maxBytes } = options;
  const tooLarge = () =>
    // The rest of the body is never read, so this connection cannot carry another request: say so,
    // or a keep-alive client's next request would hang until the socket is torn down.
    errorResponse(
      new OAuthError(413, 'invalid_request', `The request body exceeds ${maxBytes} bytes`, {
        Connection: 'close',
      }),
    );
  const streamed = streamedBodyLimit({ maxSize: maxBytes, onError: tooLarge });
  // Not async: a layer that passes on should not hold a suspended function of its own while the
  // handler waits (docs/benchmarks.md, "What a refresh holds while it waits").
  return function bodyLimit(c, next) {
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      return Number.parseInt(declared, 10) > maxBytes ? Promise.resolve(tooLarge()) : next();
    }
    return streamed(c, next);
  };
}
