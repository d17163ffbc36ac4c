/**
 * The swap service as one Hono app: a `fetch` handler over Web APIs only, so every runtime entry
 * point (Node, Workers, Deno, Bun, Lambda) serves the very same code. Runtime-specific pieces
 * (metrics backend, Redis, the socket's peer address) come in through AppOptions.
 */
import { type Context, type Handler, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { timingSafeEqual } from '../shared/encoding.js';
import { type BreakerState, type CircuitBreaker, createCircuitBreaker } from './breaker.js';
import { resolveClientIp } from './client-ip.js';
import { type Coalescer, createLocalCoalescer } from './coalesce.js';
import { createConcurrencyLimiter } from './concurrency.js';
import { type AppConfig, DEFAULT_APP, type ServiceConfig } from './config.js';
import { errorResponse, jsonResponse, OAuthError, serverError } from './errors.js';
import { type Logger, silentLogger } from './logger.js';
import { type Metrics, noopMetrics } from './metrics.js';
import { OPENAPI_PATH, openApiDocument } from './openapi.js';
import {
  checkRateLimit,
  createMemoryRateLimitStore,
  type RateLimitPolicy,
  type RateLimitStore,
  rateLimitedResponse,
} from './rate-limit.js';
import type { ReadinessCheck } from './readiness.js';
import type { SealerFactory } from './sealing.js';
import { createSpotifyCaller, type SpotifyCaller } from './spotify-caller.js';
import { createTokenHandlers, type LegacyUnsealer } from './token-handlers.js';
import type { UpstreamFetch } from './upstream.js';

/** Token requests are a few hundred bytes; 8 KiB leaves room for long redirect URIs and extras. */
export const MAX_BODY_BYTES = 8 * 1024;

export const SWAP_PATHS = ['/swap', '/api/token'] as const;
export const REFRESH_PATHS = ['/refresh', '/api/refresh_token'] as const;

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

export interface Variables {
  requestId: string;
  log: Logger;
}

type Env = { Variables: Variables };

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const WINDOW_MS = 60_000;

function childLogger(logger: Logger, fields: Record<string, unknown>): Logger {
  const child = (logger as { child?: (bindings: Record<string, unknown>) => Logger }).child;
  if (typeof child === 'function') {
    return child.call(logger, fields);
  }
  const bind =
    (level: keyof Logger) =>
    (object: Record<string, unknown>, message?: string): void =>
      logger[level]({ ...fields, ...object }, message);
  return { error: bind('error'), warn: bind('warn'), info: bind('info'), debug: bind('debug') };
}

/** A bounded label for metrics: a route pattern, never what the client typed. */
function routeLabel(path: string): string {
  switch (path) {
    case '/':
    case '/swap':
    case '/api/token':
    case '/refresh':
    case '/api/refresh_token':
    case '/healthz':
    case '/readyz':
    case '/metrics':
    case OPENAPI_PATH:
      return path;
    default: {
      const app = /^\/apps\/[a-z0-9-]+(\/.*)$/.exec(path)?.[1];
      if (app !== undefined && (SWAP_PATHS as readonly string[]).concat(REFRESH_PATHS).includes(app)) {
        return `/apps/:app${app}`;
      }
      return path.startsWith('/sandbox/') ? '/sandbox/*' : path.startsWith('/demo') ? '/demo/*' : 'unmatched';
    }
  }
}

/** Where an app's endpoints live: the root for the environment's app, `/apps/{name}` for the others. */
export function appPrefix(app: Pick<AppConfig, 'name'>): string {
  return app.name === DEFAULT_APP ? '' : `/apps/${app.name}`;
}

function corsFor(app: AppConfig): MiddlewareHandler<Env> {
  const allowed = new Set(app.corsOrigins);
  const withHeaders = cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['Content-Type', 'X-Request-Id'],
    exposeHeaders: ['Retry-After', 'X-Request-Id', 'RateLimit', 'RateLimit-Policy'],
    maxAge: 600,
  });
  return async function corsGate(c, next) {
    const origin = c.req.header('origin');
    if (c.req.method === 'OPTIONS' && origin !== undefined && !allowed.has(origin)) {
      // A clear refusal in the browser's network panel instead of a 204 without CORS headers.
      return jsonResponse(403, { error: 'invalid_request', error_description: 'This origin is not allowed' });
    }
    return withHeaders(c, next);
  };
}

export function createApp(config: ServiceConfig, options: AppOptions = {}): Hono<Env> {
  const logger = options.logger ?? silentLogger;
  const metrics = options.metrics ?? noopMetrics;
  if (config.apps.length === 0) {
    throw new TypeError('the configuration holds no app');
  }

  // One breaker and one concurrency cap per upstream: apps on the same Accounts service share them.
  const breakers: CircuitBreaker[] = [];
  const callers = new Map<string, SpotifyCaller>();
  const callerFor = (accountsUrl: string): SpotifyCaller => {
    let caller = callers.get(accountsUrl);
    if (!caller) {
      const breaker = createCircuitBreaker({
        failureThreshold: config.resilience.breakerThreshold,
        cooldownMs: config.resilience.breakerCooldownMs,
        onStateChange: (state: BreakerState) => {
          metrics.breakerState(state);
          if (state === 'open') {
            logger.error({ breaker: state }, 'circuit breaker open: Spotify Accounts is failing');
          } else {
            logger.warn({ breaker: state }, `circuit breaker ${state}`);
          }
        },
      });
      breakers.push(breaker);
      caller = createSpotifyCaller({
        fetch: options.fetch ?? ((input, init) => fetch(input, init)),
        breaker,
        limiter: createConcurrencyLimiter({
          maxConcurrent: config.resilience.maxConcurrency,
          queueTimeoutMs: config.resilience.queueTimeoutMs,
        }),
        metrics,
      });
      callers.set(accountsUrl, caller);
    }
    return caller;
  };
  metrics.breakerState('closed');
  const coalescer = options.coalescer ?? createLocalCoalescer();

  const rateLimitStore = options.rateLimitStore ?? createMemoryRateLimitStore();
  const app = new Hono<Env>();

  app.use(async function requestContext(c, next) {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    const requestId = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    const log = childLogger(logger, { reqId: requestId });
    c.set('requestId', requestId);
    c.set('log', log);
    await next();
    c.res.headers.set('X-Request-Id', requestId);
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
    const durationMs = performance.now() - started;
    metrics.request(routeLabel(c.req.path), c.req.method, c.res.status, durationMs / 1000);
    log.info(
      {
        method: c.req.method,
        // The path only: a query string could carry a code a client put in the wrong place.
        path: c.req.path.slice(0, 200),
        status: c.res.status,
        durationMs: Math.round(durationMs * 10) / 10,
      },
      'request',
    );
  });

  const tooLarge = () =>
    // The rest of the body is never read, so this connection cannot carry another request:
    // say so, or a keep-alive client's next request would hang until the socket is torn down.
    errorResponse(
      new OAuthError(413, 'invalid_request', `The request body exceeds ${MAX_BODY_BYTES} bytes`, {
        Connection: 'close',
      }),
    );
  const streamedBodyLimit = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge });
  const limit: MiddlewareHandler<Env> = async function bodySizeLimit(c, next) {
    // A declared length is judged from the header alone, as hono's bodyLimit judges it: the HTTP
    // server never hands over more bytes than Content-Length says. Not touching the body here keeps
    // the Node adapter's fast path (it reads the socket straight into a string instead of building
    // a Web stream); only a chunked body is counted as it streams in.
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      return Number.parseInt(declared, 10) > MAX_BODY_BYTES ? tooLarge() : next();
    }
    return streamedBodyLimit(c, next);
  };

  const rateLimited = (policy: RateLimitPolicy, appName: string): MiddlewareHandler<Env> =>
    async function rateLimit(c, next) {
      if (policy.limit === 0) return next();
      const ip = resolveClientIp(
        options.clientAddress?.(c),
        c.req.header('x-forwarded-for'),
        config.trustProxy,
      );
      // Each app has its own budgets; the default app keeps the plain key.
      const key = appName === DEFAULT_APP ? ip : `${appName}:${ip}`;
      const decision = await checkRateLimit(rateLimitStore, policy, key);
      if (!decision.allowed) {
        metrics.rateLimited(policy.name);
        return rateLimitedResponse(decision);
      }
      await next();
      for (const [name, value] of Object.entries(decision.headers)) c.res.headers.set(name, value);
    };

  // OPTIONS is allowed only where CORS answers preflights.
  const methodNotAllowed = (allow: string) => {
    const only = allow.split(',', 1)[0];
    return () =>
      jsonResponse(
        405,
        { error: 'method_not_allowed', error_description: `Use ${only} for this endpoint` },
        { Allow: allow },
      );
  };
  /** The read-only endpoints: GET (and HEAD, which Hono answers with the GET route), 405 otherwise. */
  const readOnly = (path: string, handler: Handler<Env>) => {
    app.get(path, handler);
    app.all(path, methodNotAllowed('GET, HEAD'));
  };

  for (const appConfig of config.apps) {
    const prefix = appPrefix(appConfig);
    if (appConfig.legacyEncryptionSecrets.length > 0 && !options.legacyUnsealer) {
      logger.error(
        { app: appConfig.name },
        'LEGACY_ENCRYPTION_SECRET is set, but this runtime cannot open 3DES tokens (run the Node build)',
      );
    }
    const handlers = createTokenHandlers(appConfig, {
      caller: callerFor(appConfig.accountsUrl),
      coalescer,
      metrics,
      createSealer: options.createSealer,
      legacyUnseal:
        appConfig.legacyEncryptionSecrets.length > 0
          ? options.legacyUnsealer?.(appConfig.legacyEncryptionSecrets)
          : undefined,
    });
    const swapLimit = rateLimited(
      { name: 'swap', limit: config.rateLimit.swapPerMinute, windowMs: WINDOW_MS },
      appConfig.name,
    );
    const refreshLimit = rateLimited(
      { name: 'refresh', limit: config.rateLimit.refreshPerMinute, windowMs: WINDOW_MS },
      appConfig.name,
    );
    const corsGate = appConfig.corsOrigins.length > 0 ? corsFor(appConfig) : undefined;
    for (const path of [...SWAP_PATHS, ...REFRESH_PATHS]) {
      // CORS per app and per path: one app's origins never open another app's endpoints.
      if (corsGate) app.use(`${prefix}${path}`, corsGate);
    }
    for (const path of SWAP_PATHS) {
      app.post(`${prefix}${path}`, swapLimit, limit, (c) => handlers.swap(c.req.raw, c.var.log));
    }
    for (const path of REFRESH_PATHS) {
      app.post(`${prefix}${path}`, refreshLimit, limit, (c) => handlers.refresh(c.req.raw, c.var.log));
    }
    for (const path of [...SWAP_PATHS, ...REFRESH_PATHS]) {
      app.all(`${prefix}${path}`, methodNotAllowed(corsGate ? 'POST, OPTIONS' : 'POST'));
    }
  }

  readOnly('/healthz', () => jsonResponse(200, { status: 'ok' }));

  const openApi = openApiDocument({
    apps: config.apps.map((a) => a.name).filter((name) => name !== DEFAULT_APP),
    defaultApp: config.apps.some((a) => a.name === DEFAULT_APP),
  });
  readOnly(OPENAPI_PATH, () => jsonResponse(200, openApi));

  readOnly('/readyz', async () => {
    const states = breakers.map((breaker) => breaker.state());
    const state = states.includes('open') ? 'open' : states.includes('half_open') ? 'half_open' : 'closed';
    const checks: Record<string, ReadinessCheck> = {
      upstream: { ok: state !== 'open', detail: `circuit breaker ${state}` },
      ...(await options.readiness?.()),
    };
    const ready = Object.values(checks).every((check) => check.ok);
    return jsonResponse(ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', checks });
  });

  readOnly('/metrics', async (c) => {
    if (!metrics.render) {
      return jsonResponse(404, { error: 'not_found', error_description: 'Metrics are not enabled' });
    }
    if (config.metricsToken !== undefined) {
      const presented = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
      if (!(await timingSafeEqual(presented, config.metricsToken))) {
        return jsonResponse(
          401,
          { error: 'invalid_token', error_description: 'GET /metrics needs the METRICS_TOKEN bearer token' },
          { 'WWW-Authenticate': 'Bearer' },
        );
      }
    }
    const { contentType, body } = await metrics.render();
    return new Response(body, { headers: { 'Content-Type': contentType, 'Cache-Control': 'no-store' } });
  });

  const mounts = options.mounts ?? [];
  for (const mount of mounts) {
    app.route(mount.path, mount.app as unknown as Hono<Env>);
  }

  readOnly('/', () =>
    jsonResponse(200, {
      service: 'spotify-token-swap',
      version: options.version,
      description:
        'Token swap service for Spotify apps: exchanges authorization codes and refreshes tokens so the client secret stays on the server.',
      endpoints: {
        'POST /swap': 'Exchange an authorization code (form or JSON: code, redirect_uri?, code_verifier?)',
        'POST /api/token': 'Alias of POST /swap',
        'POST /refresh': 'Refresh an access token (form or JSON: refresh_token)',
        'POST /api/refresh_token': 'Alias of POST /refresh',
        'GET /healthz': 'Liveness check',
        'GET /readyz': 'Readiness check (upstream circuit breaker, shared store)',
        ...(metrics.render ? { 'GET /metrics': 'Prometheus metrics' } : {}),
        [`GET ${OPENAPI_PATH}`]: 'This API as an OpenAPI 3.1 document',
        ...Object.fromEntries(mounts.map((m) => [`${m.path}/*`, m.description])),
      },
      apps: Object.fromEntries(
        config.apps.map((appConfig) => [
          appConfig.name,
          {
            swap: `${appPrefix(appConfig)}/swap`,
            refresh: `${appPrefix(appConfig)}/refresh`,
            sealing: appConfig.encryptionSecrets.length > 0 ? 'on' : 'off',
          },
        ]),
      ),
    }),
  );

  app.notFound(() =>
    // The path is not echoed back: nothing the client sent is reflected in an answer.
    jsonResponse(404, { error: 'not_found', error_description: 'No such endpoint; GET / lists them' }),
  );

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
