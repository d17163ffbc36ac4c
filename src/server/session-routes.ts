/**
 * The session endpoints (contract.ts's SESSION_ENDPOINTS) on one base of the token endpoints (the
 * root, or `/apps/:app`): the app is selected and traced as for the token endpoints, then the CSRF
 * and origin check with credentialed CORS (session/guard.ts), the rate budget of the grant each one
 * stands for, the body limit, the handler (session/handlers.ts); any other method is a 405.
 */
import type { Context, Handler, Hono, MiddlewareHandler } from 'hono';
import { ALLOW, type Grant, SESSION_ENDPOINTS, type SessionEndpoint } from './contract.js';
import { withDpopNonce } from './endpoints/dpop-nonce.js';
import { errorResponse } from './errors.js';
import type { Logger } from './logger.js';
import { methodNotAllowed } from './middleware/method-not-allowed.js';
import { budgeted } from './middleware/rate-limit.js';
import { traceRequest } from './middleware/trace-request.js';
import { sessionGuard } from './session/guard.js';
import { type SessionHandlers, sessionUnavailable } from './session/handlers.js';
import type { Env } from './token-routes.js';
import type { Tracing } from './tracing.js';

export interface SessionRouteOptions {
  /** Selects the request's app (and answers 404 for an unknown one). */
  selectApp: MiddlewareHandler<Env>;
  budgets: Readonly<Record<Grant, MiddlewareHandler>>;
  limitBody: MiddlewareHandler;
  tracing: { tracing: Tracing; logger: Logger } | undefined;
  publicUrl: string | undefined;
}

const HANDLER_OF: Readonly<Record<SessionEndpoint['path'], keyof SessionHandlers>> = {
  '/session/swap': 'swap',
  '/session/token': 'token',
  '/session/logout': 'logout',
};

export function mountSessionEndpoints(app: Hono<Env>, base: string, options: SessionRouteOptions): void {
  const guard = sessionGuard({
    allowedOrigins: (c: Context<Env>) => c.get('served').corsOrigins,
    publicUrl: options.publicUrl,
  });
  // Preflights are part of every session endpoint: the page's fetch with X-CSRF always sends one.
  const notAllowed = methodNotAllowed({ allow: ALLOW.tokenWithCors });
  for (const endpoint of SESSION_ENDPOINTS) {
    const path = `${base}${endpoint.path}`;
    const trace = options.tracing
      ? [
          traceRequest({
            ...options.tracing,
            route: path,
            grant: endpoint.grant,
            appName: (c) => c.get('served').config.name,
          }),
        ]
      : [];
    const name = HANDLER_OF[endpoint.path];
    const handle: Handler<Env> = async (c) => {
      const { session, handlers } = c.get('served');
      if (!session) return errorResponse(sessionUnavailable());
      return withDpopNonce(handlers, await session[name](c.req.raw, c.get('log'), c.get('span')));
    };
    app.use(path, options.selectApp, ...trace, guard);
    app.post(path, ...budgeted(options.budgets[endpoint.grant], options.limitBody, handle));
    app.all(path, notAllowed);
  }
}
