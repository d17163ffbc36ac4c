/**
 * The token endpoints (contract.ts's TOKEN_ENDPOINTS) of every app, mounted on the service's Hono
 * app: at the root for the environment's app, under `/apps/:app` for the others. Per request: which
 * app, tracing, CORS, the rate limit, the body limit, then the handler; any other method is a 405.
 */
import type { Context, Handler, Hono, MiddlewareHandler } from 'hono';
import { resolveClientIp } from './client-ip.js';
import { type AppConfig, DEFAULT_APP, type ServiceConfig } from './config/index.js';
import { ALLOW, API_PROXY, APPS_PATH, type Grant, MAX_BODY_BYTES, TOKEN_ENDPOINTS } from './contract.js';
import { proofInput } from './endpoints/dpop.js';
import { withDpopNonce } from './endpoints/dpop-nonce.js';
import { readParams, single } from './endpoints/params.js';
import type { TokenHandlers } from './endpoints/tokens.js';
import { errorResponse, notFound } from './errors.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { bodyLimit } from './middleware/body-limit.js';
import { corsGate } from './middleware/cors.js';
import { methodNotAllowed } from './middleware/method-not-allowed.js';
import { budgetCheck, budgeted, type RateLimitOptions, rateLimit } from './middleware/rate-limit.js';
import type { RequestContextVariables } from './middleware/request-context.js';
import { type TraceRequestVariables, traceRequest } from './middleware/trace-request.js';
import { mountOAuthEndpoints } from './oauth-routes.js';
import type { ApiFetch } from './proxy/forward.js';
import { mountApiProxy } from './proxy/routes.js';
import type { RateLimitStore } from './rate-limit.js';
import type { SessionHandlers } from './session/handlers.js';
import { mountSessionEndpoints } from './session-routes.js';
import type { Tracing } from './tracing.js';

/** One served Spotify app, as the token endpoints' middleware and handlers see it. */
export interface ServedApp {
  config: AppConfig;
  handlers: TokenHandlers;
  corsOrigins: ReadonlySet<string>;
  /** The session endpoints' handlers (session/handlers.ts); undefined for an app that does not seal. */
  session: SessionHandlers | undefined;
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
    /** How the Web API proxy reaches the Web API. */
    apiFetch: ApiFetch;
  },
): void {
  const limiter = (name: Grant | typeof API_PROXY.budget, limit: number): RateLimitOptions => ({
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
      const name = c.get('served').config.name;
      return name === DEFAULT_APP ? ip : `${name}:${ip}`;
    },
  });
  const limiters: Record<Grant, RateLimitOptions> = {
    swap: limiter('swap', config.rateLimit.swapPerMinute),
    refresh: limiter('refresh', config.rateLimit.refreshPerMinute),
    // A revocation costs no call to Spotify, but one store write: the refresh budget bounds it.
    revoke: limiter('revoke', config.rateLimit.refreshPerMinute),
  };
  // The proxy's budget is its own, as large as the refresh budget: a page polling the player through
  // it must not use up the refreshes its session needs, nor they its calls (docs/sessions.md).
  const proxyBudget = rateLimit(limiter(API_PROXY.budget, config.rateLimit.refreshPerMinute));
  const budgets = {
    swap: rateLimit(limiters.swap),
    refresh: rateLimit(limiters.refresh),
    revoke: rateLimit(limiters.revoke),
  };
  const cors = corsGate({ allowedOrigins: (c: Context<Env>) => c.get('served').corsOrigins });
  const limitBody = bodyLimit({ maxBytes: MAX_BODY_BYTES });
  const notAllowed = methodNotAllowed({
    allow: (c: Context<Env>) => (c.get('served').corsOrigins.size > 0 ? ALLOW.tokenWithCors : ALLOW.token),
  });

  const appName = (c: Context<Env>) => c.get('served').config.name;
  const bases: [string, (c: Context<Env>) => ServedApp | undefined, ServedApp[]][] = [];
  const root = served.get(DEFAULT_APP);
  if (root) bases.push(['', () => root, [root]]);
  const others = [...served.values()].filter((one) => one !== root);
  if (others.length > 0) {
    const named = (c: Context<Env>) => {
      const name = c.req.param('app') ?? '';
      return name === DEFAULT_APP ? undefined : served.get(name);
    };
    bases.push([`${APPS_PATH}/:app`, named, others]);
  }
  for (const [base, find, apps] of bases) {
    // Not async, as no layer here that only passes on is: each async layer is one more suspended
    // function and promise for as long as Spotify takes to answer (docs/benchmarks.md, "What a
    // refresh holds while it waits").
    const selectApp: MiddlewareHandler<Env> = (c, next) => {
      const found = find(c);
      if (!found) return Promise.resolve(errorResponse(notFound()));
      c.set('served', found);
      return next();
    };
    // Where no app of this base allows an origin, the gate would only pass every request on.
    const corsLayers = apps.some((one) => one.corsOrigins.size > 0) ? [cors] : [];
    for (const endpoint of TOKEN_ENDPOINTS) {
      const path = `${base}${endpoint.path}`;
      // Traced once the app is known: a path under /apps/ that names no app is no token request.
      const trace = options.tracing
        ? [traceRequest({ ...options.tracing, route: path, grant: endpoint.grant, appName })]
        : [];
      app.use(path, selectApp, ...trace, ...corsLayers);
      const handle =
        base === '' && endpoint.grant === 'revoke' ? rootRevoke(served) : handlerOf(endpoint.grant);
      app.post(path, ...budgeted(budgets[endpoint.grant], limitBody, handle));
      app.all(path, notAllowed);
    }
    mountSessionEndpoints(app, base, {
      selectApp,
      budgets,
      limitBody,
      tracing: options.tracing,
      publicUrl: config.publicUrl,
    });
    mountApiProxy(app, base, {
      selectApp,
      budget: proxyBudget,
      publicUrl: config.publicUrl,
      fetch: options.apiFetch,
      tracing: options.tracing?.tracing,
    });
  }
  // The same budgets, the same body limit: POST /token is /swap and /refresh in the standard's words.
  mountOAuthEndpoints(app, served, config, {
    budgets: {
      swap: budgetCheck(limiters.swap),
      refresh: budgetCheck(limiters.refresh),
      revoke: budgetCheck(limiters.revoke),
    },
    limitBody,
    tracing: options.tracing,
  });
}

// `c.get`, never `c.var`, on the request path: Hono's `c.var` copies every variable into a new
// object on each read.
const handlerOf =
  (grant: Grant): Handler<Env> =>
  (c) => {
    const { handlers } = c.get('served');
    const answered = handlers[grant](c.req.raw, c.get('log'), c.get('span'));
    return handlers.dpopNonce ? answered.then((response) => withDpopNonce(handlers, response)) : answered;
  };

/**
 * The root `/revoke`: the environment's app's, as always, unless the `client_id` (RFC 7009 §2.1)
 * names one other app: POST /token serves every app at the root, so its metadata's revocation
 * endpoint must revoke their tokens too, or a revocation would answer 200 and revoke nothing.
 */
function rootRevoke(served: ReadonlyMap<string, ServedApp>): Handler<Env> {
  const others = [...served.values()].filter((one) => one.config.name !== DEFAULT_APP);
  if (others.length === 0) return handlerOf('revoke');
  return async (c) => {
    const params = await readParams(c.req.raw);
    const clientId = single(params, 'client_id');
    const root = c.get('served');
    const named = others.filter((one) => one.config.clientId === clientId);
    const [only] = named;
    const target = clientId !== root.config.clientId && named.length === 1 && only ? only : root;
    return withDpopNonce(
      target.handlers,
      await target.handlers.grants.revoke(params, c.get('log'), proofInput(c.req.raw)),
    );
  };
}
