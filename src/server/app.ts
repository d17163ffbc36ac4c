/**
 * The swap service as one Hono app: a `fetch` handler over Web APIs only, so every runtime entry
 * point (Node, Workers, Deno, Bun, Lambda) serves the very same code. This module only composes: the
 * contract (contract.ts) says which paths exist, the middleware (middleware/) and the endpoints
 * (endpoints/) do the work, and runtime-specific pieces (metrics backend, Redis, the socket's peer
 * address, a faster sealer) come in through AppOptions.
 */
import { type Context, type Handler, Hono, type MiddlewareHandler } from 'hono';
import { resolveClientIp } from './client-ip.js';
import { type Coalescer, createLocalCoalescer } from './coalesce.js';
import { type AppConfig, DEFAULT_APP, type ServiceConfig } from './config/index.js';
import {
  ALLOW,
  APPS_PATH,
  type Grant,
  MAX_BODY_BYTES,
  SERVICE_ENDPOINTS,
  type ServicePath,
  TOKEN_ENDPOINTS,
} from './contract.js';
import { serviceEndpoints } from './endpoints/service.js';
import { createTokenHandlers, type LegacyUnsealer, type TokenHandlers } from './endpoints/tokens.js';
import { errorResponse, notFound, OAuthError, serverError } from './errors.js';
import { type Logger, silentLogger } from './logger.js';
import { type Metrics, noopMetrics } from './metrics.js';
import { bodyLimit } from './middleware/body-limit.js';
import { corsGate } from './middleware/cors.js';
import { methodNotAllowed } from './middleware/method-not-allowed.js';
import { rateLimit } from './middleware/rate-limit.js';
import { type RequestContextVariables, requestContext } from './middleware/request-context.js';
import { type TraceRequestVariables, traceRequest } from './middleware/trace-request.js';
import { openApiDocument } from './openapi/index.js';
import { createMemoryRateLimitStore, type RateLimitStore } from './rate-limit.js';
import type { ReadinessCheck } from './readiness.js';
import type { SealerFactory } from './sealing/index.js';
import type { Tracing } from './tracing.js';
import { createUpstreams, type Upstreams } from './upstream/index.js';
import type { UpstreamFetch } from './upstream/token-request.js';

export interface Mount {
  /** Path prefix, e.g. `/sandbox`. */
  path: string;
  app: Hono;
  /** One line for the root page. */
  description: string;
}

export interface AppOptions {
  /** How to reach Spotify Accounts; default: the global `fetch`. */
  fetch?: UpstreamFetch;
  logger?: Logger;
  version?: string;
  /** Extra apps served under a prefix, e.g. the sandbox in `serve --sandbox`. */
  mounts?: readonly Mount[];
  metrics?: Metrics;
  /** Default: in memory, per process. */
  rateLimitStore?: RateLimitStore;
  /** Default: in-process single flight. */
  coalescer?: Coalescer;
  /** The socket's peer address; runtimes know how to read it. */
  clientAddress?: (c: Context) => string | undefined;
  /** Extra readiness checks, e.g. Redis. */
  readiness?: () => Promise<Record<string, ReadinessCheck>>;
  /** Seals refresh tokens; default: WebCrypto. The Node entry brings node:crypto, a third of the cost. */
  createSealer?: SealerFactory;
  /** Opens refresh tokens of the Ruby service for an app with LEGACY_ENCRYPTION_SECRET (Node only). */
  legacyUnsealer?: (secrets: readonly string[]) => LegacyUnsealer;
  /** Spans around the token requests and their upstream calls; default: none are made. */
  tracing?: Tracing;
}

/** One served Spotify app, as the token endpoints' middleware and handlers see it. */
interface ServedApp {
  config: AppConfig;
  handlers: TokenHandlers;
  corsOrigins: ReadonlySet<string>;
}

interface Variables extends RequestContextVariables, TraceRequestVariables {
  served: ServedApp;
}

type Env = { Variables: Variables };

const WINDOW_MS = 60_000;

/** Where an app's endpoints live: the root for the environment's app, `/apps/{name}` for the others. */
export function appPrefix(app: Pick<AppConfig, 'name'>): string {
  return app.name === DEFAULT_APP ? '' : `${APPS_PATH}/${app.name}`;
}

/** Each configured app with its token handlers, by name. */
function serveApps(
  config: ServiceConfig,
  options: AppOptions,
  deps: { upstreams: Upstreams; coalescer: Coalescer; metrics: Metrics; logger: Logger },
): Map<string, ServedApp> {
  const served = new Map<string, ServedApp>();
  for (const appConfig of config.apps) {
    const legacy = appConfig.legacyEncryptionSecrets;
    if (legacy.length > 0 && !options.legacyUnsealer) {
      deps.logger.error(
        { app: appConfig.name },
        'LEGACY_ENCRYPTION_SECRET is set, but this runtime cannot open 3DES tokens (run the Node build)',
      );
    }
    const handlers = createTokenHandlers(appConfig, {
      caller: deps.upstreams.callerFor(appConfig),
      coalescer: deps.coalescer,
      metrics: deps.metrics,
      createSealer: options.createSealer,
      legacyUnseal: legacy.length > 0 ? options.legacyUnsealer?.(legacy) : undefined,
    });
    served.set(appConfig.name, { config: appConfig, handlers, corsOrigins: new Set(appConfig.corsOrigins) });
  }
  return served;
}

/**
 * The token endpoints of every path and alias: at the root for the environment's app, under
 * `/apps/:app` for the others. Per request: which app, CORS, the rate limit, the body limit, then the
 * handler; any other method is a 405.
 */
function mountTokenEndpoints(
  app: Hono<Env>,
  served: ReadonlyMap<string, ServedApp>,
  config: ServiceConfig,
  options: {
    store: RateLimitStore;
    metrics: Metrics;
    clientAddress: AppOptions['clientAddress'];
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

export function createApp(config: ServiceConfig, options: AppOptions = {}): Hono<Env> {
  const logger = options.logger ?? silentLogger;
  const metrics = options.metrics ?? noopMetrics;
  if (config.apps.length === 0) {
    throw new TypeError('the configuration holds no app');
  }
  const upstreams = createUpstreams(config, {
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    metrics,
    logger,
  });
  const coalescer = options.coalescer ?? createLocalCoalescer();
  const served = serveApps(config, options, { upstreams, coalescer, metrics, logger });

  const app = new Hono<Env>();
  app.use(requestContext({ logger, metrics }));
  mountTokenEndpoints(app, served, config, {
    store: options.rateLimitStore ?? createMemoryRateLimitStore(),
    metrics,
    clientAddress: options.clientAddress,
    tracing: options.tracing && { tracing: options.tracing, logger },
  });

  // The read-only endpoints: GET (and HEAD, which Hono answers with the GET route), 405 otherwise.
  const mounts = options.mounts ?? [];
  const named = config.apps.map((a) => a.name).filter((name) => name !== DEFAULT_APP);
  const handlers = serviceEndpoints({
    apps: config.apps,
    prefixOf: appPrefix,
    version: options.version,
    metrics,
    metricsToken: config.metricsToken,
    breakers: upstreams.breakers,
    readiness: options.readiness,
    openApi: openApiDocument({ apps: named, defaultApp: served.has(DEFAULT_APP) }),
    extraEndpoints: Object.fromEntries(mounts.map((m) => [`${m.path}/*`, m.description])),
  });
  const readOnly = methodNotAllowed({ allow: ALLOW.readOnly });
  for (const path of Object.keys(SERVICE_ENDPOINTS) as ServicePath[]) {
    app.get(path, handlers[path] as Handler<Env>);
    app.all(path, readOnly);
  }

  for (const mount of mounts) {
    app.route(mount.path, mount.app as unknown as Hono<Env>);
  }

  app.notFound(() => errorResponse(notFound()));
  app.onError((err, c) => {
    if (err instanceof OAuthError) {
      return errorResponse(err);
    }
    const log = c.get('log') ?? logger;
    log.error({ errorName: err.name, errorMessage: err.message, stack: err.stack }, 'unexpected error');
    return errorResponse(serverError());
  });

  return app;
}
