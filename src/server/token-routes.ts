/**
 * The token endpoints (contract.ts's TOKEN_ENDPOINTS) of every app, mounted on the service's Hono
 * app: at the root for the environment's app, under `/apps/:app` for the others. Per request: which
 * app, tracing, CORS, the rate limit, the body limit, then the handler; any other method is a 405.
 */
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { resolveClientIp } from './client-ip.js';
import { type AppConfig, DEFAULT_APP, type ServiceConfig } from './config/index.js';
import { ALLOW, APPS_PATH, type Grant, MAX_BODY_BYTES, TOKEN_ENDPOINTS } from './contract.js';
import type { TokenHandlers } from './endpoints/tokens.js';
import { errorResponse, notFound } from './errors.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { bodyLimit } from './middleware/body-limit.js';
import { corsGate } from './middleware/cors.js';
import { methodNotAllowed } from './middleware/method-not-allowed.js';
import { rateLimit } from './middleware/rate-limit.js';
import type { RequestContextVariables } from './middleware/request-context.js';
import { type TraceRequestVariables, traceRequest } from './middleware/trace-request.js';
import type { RateLimitStore } from './rate-limit.js';
import type { Tracing } from './tracing.js';

/** One served Spotify app, as the token endpoints' middleware and handlers see it. */
export interface ServedApp {
  config: AppConfig;
  handlers: TokenHandlers;
  corsOrigins: ReadonlySet<string>;
}

export interface Variables extends RequestContextVariables, TraceRequestVariables {
  served: ServedApp;
}

export type Env = { Variables: Variables };

const WINDOW_MS = 60_000;

/** The token endpoints of every path and alias, for every app in `served`. */
export function mountTokenEndpoints(
  app: Hono<Env>,
  served: ReadonlyMap<string, ServedApp>,
  config: ServiceConfig,
  options: {
    store: RateLimitStore;
    metrics: Metrics;
    clientAddress: ((c: Context) => string | undefined) | undefined;
    tracing: { tracing: Tracing; logger: Logger } | undefined;
  },
): void {
  const budget = (name: Grant, limit: number) =>
    rateLimit({
      store: options.store,
      policy: { name, limit, windowMs: WINDOW_MS },
      metrics: options.metrics,
      clientKey: (c: Context<Env>) => {
        const ip = resolveClientIp(
          options.clientAddress?.(c),
          c.req.header('x-forwarded-for'),
          config.trustProxy,
        );
        // Each app has its own budgets; the default app keeps the plain key.
        const name = c.var.served.config.name;
        return name === DEFAULT_APP ? ip : `${name}:${ip}`;
      },
    });
  const budgets: Record<Grant, MiddlewareHandler> = {
    swap: budget('swap', config.rateLimit.swapPerMinute),
    refresh: budget('refresh', config.rateLimit.refreshPerMinute),
    // A revocation costs no call to Spotify, but one store write: the refresh budget bounds it.
    revoke: budget('revoke', config.rateLimit.refreshPerMinute),
  };
  const cors = corsGate({ allowedOrigins: (c: Context<Env>) => c.var.served.corsOrigins });
  const limitBody = bodyLimit({ maxBytes: MAX_BODY_BYTES });
  const notAllowed = methodNotAllowed({
    allow: (c: Context<Env>) => (c.var.served.corsOrigins.size > 0 ? ALLOW.tokenWithCors : ALLOW.token),
  });

  const appName = (c: Context<Env>) => c.var.served.config.name;
  const bases: [string, (c: Context<Env>) => ServedApp | undefined][] = [];
  const root = served.get(DEFAULT_APP);
  if (root) bases.push(['', () => root]);
  if (served.size > (root ? 1 : 0)) {
    const named = (c: Context<Env>) => {
      const name = c.req.param('app') ?? '';
      return name === DEFAULT_APP ? undefined : served.get(name);
    };
    bases.push([`${APPS_PATH}/:app`, named]);
  }
  for (const [base, find] of bases) {
    const selectApp: MiddlewareHandler<Env> = async (c, next) => {
      const found = find(c);
      if (!found) return errorResponse(notFound());
      c.set('served', found);
      return next();
    };
    for (const endpoint of TOKEN_ENDPOINTS) {
      const path = `${base}${endpoint.path}`;
      // Traced once the app is known: a path under /apps/ that names no app is no token request.
      const trace = options.tracing
        ? [traceRequest({ ...options.tracing, route: path, grant: endpoint.grant, appName })]
        : [];
      app.use(path, selectApp, ...trace, cors);
      app.post(path, budgets[endpoint.grant], limitBody, (c) =>
        c.var.served.handlers[endpoint.grant](c.req.raw, c.var.log, c.var.span),
      );
      app.all(path, notAllowed);
    }
  }
}
