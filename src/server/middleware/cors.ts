/**
 * CORS for the token endpoints, per app: an allowed origin gets Hono's CORS answer (the headers of
 * the contract); a preflight from any other origin gets a JSON 403, a clear refusal in the browser's
 * network panel instead of a 204 without CORS headers. One app's origins never open another app's
 * endpoints, because the allowlist is looked up for the app the request is for.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { CORS } from '../contract.js';
import { errorResponse, OAuthError } from '../errors.js';

export interface CorsGateOptions {
  /** The origins allowed for this request's app; empty: no CORS at all (no preflight answered). */
  allowedOrigins: (c: Context) => ReadonlySet<string>;
}

export function corsGate(options: CorsGateOptions): MiddlewareHandler {
  const { allowedOrigins } = options;
  const withHeaders = cors({
    origin: (origin, c) => (allowedOrigins(c).has(origin) ? origin : null),
    allowMethods: [...CORS.allowMethods],
    allowHeaders: [...CORS.allowHeaders],
    exposeHeaders: [...CORS.exposeHeaders],
    maxAge: CORS.maxAgeSeconds,
  });
  return function corsGate(c, next) {
    const allowed = allowedOrigins(c);
    if (allowed.size === 0) return next();
    const origin = c.req.header('origin');
    if (c.req.method === 'OPTIONS' && origin !== undefined && !allowed.has(origin)) {
      return Promise.resolve(
        errorResponse(new OAuthError(403, 'invalid_request', 'This origin is not allowed')),
      );
    }
    return withHeaders(c, next);
  };
}
