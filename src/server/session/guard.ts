/**
 * CSRF defence and credentialed CORS for the session endpoints (docs/sessions.md): a request must
 * carry `X-CSRF: 1`, which a cross-site form cannot send and a cross-origin script cannot send
 * without a preflight, and an `Origin` that is the service's own or on the app's CORS allowlist (or,
 * where a browser sends none, `Sec-Fetch-Site: same-origin`).
 * Only these endpoints answer CORS with credentials: the token endpoints keep theirs
 * (middleware/cors.ts), as their callers send no cookie.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { CORS, SESSION_CSRF_HEADER } from '../contract.js';
import { errorResponse, OAuthError } from '../errors.js';

export interface SessionGuardOptions {
  /** The origins of this request's app's allowlist. */
  allowedOrigins: (c: Context) => ReadonlySet<string>;
  /** PUBLIC_URL, when set: its origin is the service's own; else the one the request arrived on. */
  publicUrl: string | undefined;
  /** The methods that need the header and the origin; default POST, the session endpoints'. */
  methods?: readonly string[];
}

const refused = (description: string) => errorResponse(new OAuthError(403, 'invalid_request', description));

export function sessionGuard(options: SessionGuardOptions): MiddlewareHandler {
  const { allowedOrigins, publicUrl } = options;
  const methods = options.methods ?? ['POST'];
  const ownOrigin = (c: Context) => new URL(publicUrl ?? c.req.url).origin;
  const withHeaders = cors({
    origin: (origin, c) => (allowedOrigins(c).has(origin) ? origin : null),
    allowMethods: [...methods, 'OPTIONS'],
    allowHeaders: [...CORS.allowHeaders, SESSION_CSRF_HEADER],
    exposeHeaders: [...CORS.exposeHeaders],
    maxAge: CORS.maxAgeSeconds,
    credentials: true,
  });
  const refusalOf = (c: Context, origin: string | undefined) => {
    if (c.req.header(SESSION_CSRF_HEADER) !== '1') {
      return refused(`Session requests need the header ${SESSION_CSRF_HEADER}: 1`);
    }
    if (origin === undefined) {
      // Browsers send no Origin on a same-origin GET (the proxy's, from a page the service serves),
      // but always `Sec-Fetch-Site`, which no script can set (Fetch Metadata): that says the same.
      if (c.req.header('sec-fetch-site') === 'same-origin') return undefined;
      return refused("Session requests need an Origin that is the service or on the app's CORS allowlist");
    }
    if (origin !== ownOrigin(c) && !allowedOrigins(c).has(origin)) {
      return refused("Session requests need an Origin that is the service or on the app's CORS allowlist");
    }
    return undefined;
  };
  return async function sessionGuard(c, next) {
    const origin = c.req.header('origin');
    if (c.req.method === 'OPTIONS') {
      if (origin === undefined || !allowedOrigins(c).has(origin)) {
        return refused('This origin is not allowed');
      }
      return withHeaders(c, next);
    }
    if (!methods.includes(c.req.method)) return next();
    // Inside the CORS answer, so that a page on an allowed origin can read why it was refused.
    return withHeaders(c, async () => {
      const refusal = refusalOf(c, origin);
      if (refusal) c.res = refusal;
      else await next();
    });
  };
}
