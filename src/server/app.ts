/**
 * The swap service as one Hono app: a `fetch` handler over Web APIs only, so every runtime entry
 * point (Node, Workers, Deno, Bun, Lambda) serves the very same code. This module only composes: the
 * contract (contract.ts) says which paths exist, the middleware (middleware/) and the endpoints
 * (endpoints/) do the work, and runtime-specific pieces (metrics backend, Redis, the socket's peer
 * address, a faster sealer) come in through AppOptions.
 */
import { type Context, type Handler, Hono } from 'hono';
import { resolveClientIp } from './client-ip.js';
import { type Coalescer, createLocalCoalescer } from './coalesce.js';
import { type AppConfig, DEFAULT_APP, type ServiceConfig } from './config/index.js';
import {
  ALLOW,
  APPS_PATH,
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
import { openApiDocument } from './openapi/index.js';
import { createMemoryRateLimitStore, type RateLimitStore } from './rate-limit.js';
import type { ReadinessCheck } from './readiness.js';
import type { SealerFactory } from './sealing.js';
import { createUpstreams } from './upstream/index.js';
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
}

/** One served Spotify app, as the token endpoints' middleware and handlers see it. */
interface ServedApp {
  config: AppConfig;
  handlers: TokenHandlers;
  corsOrigins: ReadonlySet<string>;
}

export interface Variables extends RequestContextVariables {
  served: ServedApp;
}

type Env = { Variables: Variables };

const WINDOW_MS = 60_000;

/** Where an app's endpoints live: the root for the environment's app, `/apps/{name}` for the others. */
export function appPrefix(app: Pick<AppConfig, 'name'>): string {
  return app.name === DEFAULT_APP ? '' : `${APPS_PATH}/${app.name}`;
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
  const rateLimitStore = options.rateLimitStore ?? createMemoryRateLimitStore();

  const served = new Map<string, ServedApp>();
  for (const appConfig of config.apps) {
    if (appConfig.legacyEncryptionSecrets.length > 0 && !options.legacyUnsealer) {
      logger.error(
        { app: appConfig.name },
        'LEGACY_ENCRYPTION_SECRET is set, but this runtime cannot open 3DES tokens (run the Node build)',
      );
    }
    const handlers = createTokenHandlers(appConfig, {
      caller: upstreams.callerFor(appConfig),
      coalescer,
      metrics,
      createSealer: options.createSealer,
      legacyUnseal:
        appConfig.legacyEncryptionSecrets.length > 0
          ? options.legacyUnsealer?.(appConfig.legacyEncryptionSecrets)
          : undefined,
    });
    served.set(appConfig.name, { config: appConfig, handlers, corsOrigins: new Set(appConfig.corsOrigins) });
  }

  const app = new Hono<Env>();
  app.use(requestContext({ logger, metrics }));

  // The token endpoints, at the root for the environment's app and under /apps/:app for the others.
  const limitsBody = bodyLimit({ maxBytes: MAX_BODY_BYTES });
  const limited = (name: 'swap' | 'refresh', limit: number) =>
    rateLimit({
      store: rateLimitStore,
      policy: { name, limit, windowMs: WINDOW_MS },
      metrics,
      clientKey: (c: Context<Env>) => {
        const ip = resolveClientIp(
          options.clientAddress?.(c),
          c.req.header('x-forwarded-for'),
          config.trustProxy,
        );
        // Each app has its own budgets; the default app keeps the plain key.
        const appName = c.var.served.config.name;
        return appName === DEFAULT_APP ? ip : `${appName}:${ip}`;
      },
    });
  const budgets = {
    swap: limited('swap', config.rateLimit.swapPerMinute),
    refresh: limited('refresh', config.rateLimit.refreshPerMinute),
  };
  const cors = corsGate({ allowedOrigins: (c: Context<Env>) => c.var.served.corsOrigins });
  const notAllowed = methodNotAllowed({
    allow: (c: Context<Env>) => (c.var.served.corsOrigins.size > 0 ? ALLOW.tokenWithCors : ALLOW.token),
  });
  const bases: [string, (c: Context<Env>) => ServedApp | undefined][] = [];
  const defaultApp = served.get(DEFAULT_APP);
  if (defaultApp) bases.push(['', () => defaultApp]);
  if (config.apps.some((a) => a.name !== DEFAULT_APP)) {
    bases.push([
      `${APPS_PATH}/:app`,
      (c) => (c.req.param('app') === DEFAULT_APP ? undefined : served.get(c.req.param('app') ?? '')),
    ]);
  }
  for (const [base, find] of bases) {
    for (const endpoint of TOKEN_ENDPOINTS) {
      const path = `${base}${endpoint.path}`;
      app.use(path, async function selectApp(c, next) {
        const found = find(c);
        if (!found) return errorResponse(notFound());
        c.set('served', found);
        return next();
      });
      app.use(path, cors);
      app.post(path, budgets[endpoint.grant], limitsBody, (c) =>
        c.var.served.handlers[endpoint.grant](c.req.raw, c.var.log),
      );
      app.all(path, notAllowed);
    }
  }

  // The read-only endpoints: GET (and HEAD, which Hono answers with the GET route), 405 otherwise.
  const mounts = options.mounts ?? [];
  const handlers = serviceEndpoints({
    apps: config.apps,
    prefixOf: appPrefix,
    version: options.version,
    metrics,
    metricsToken: config.metricsToken,
    breakers: upstreams.breakers,
    readiness: options.readiness,
    openApi: openApiDocument({
      apps: config.apps.map((a) => a.name).filter((name) => name !== DEFAULT_APP),
      defaultApp: defaultApp !== undefined,
    }),
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
