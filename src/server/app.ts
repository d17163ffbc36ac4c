/**
 * The swap service as one Hono app: a `fetch` handler over Web APIs only, so every runtime entry
 * point (Node, Workers, Deno, Bun, Lambda) serves the very same code. This module only composes: the
 * contract (contract.ts) says which paths exist, token-routes.ts mounts the token endpoints, the
 * middleware (middleware/) and the endpoints
 * (endpoints/) do the work, and runtime-specific pieces (metrics backend, Redis, the socket's peer
 * address, a faster sealer) come in through AppOptions.
 */
import { type Context, type Handler, Hono } from 'hono';
import { type Coalescer, createLocalCoalescer } from './coalesce.js';
import { type AppConfig, ConfigError, DEFAULT_APP, ENVIRONMENT, type ServiceConfig } from './config/index.js';
import { ALLOW, APPS_PATH, SERVICE_ENDPOINTS, type ServicePath } from './contract.js';
import { serviceEndpoints } from './endpoints/service.js';
import { createTokenHandlers, type LegacyUnsealer } from './endpoints/tokens.js';
import { errorResponse, notFound, OAuthError, serverError } from './errors.js';
import { type Logger, silentLogger } from './logger.js';
import type { Sha256 } from './logins/key.js';
import type { LoginStore } from './logins/store.js';
import { type Metrics, noopMetrics } from './metrics.js';
import { methodNotAllowed } from './middleware/method-not-allowed.js';
import { requestContext } from './middleware/request-context.js';
import { type OpenApiDocument, openApiDocument } from './openapi/index.js';
import type { ApiFetch } from './proxy/forward.js';
import { proxyNotices } from './proxy/routes.js';
import { createMemoryRateLimitStore, type RateLimitStore } from './rate-limit.js';
import type { ReadinessCheck } from './readiness.js';
import type { SealerFactory } from './sealing/index.js';
import { createSessionHandlers, sessionNotice } from './session/handlers.js';
import { type Env, mountTokenEndpoints, type ServedApp } from './token-routes.js';
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
  /** Hashes login keys (logins/key.ts); default: WebCrypto. The Node entry brings node:crypto. */
  sha256?: Sha256;
  /** Opens refresh tokens of the Ruby service for an app with LEGACY_ENCRYPTION_SECRET (Node only). */
  legacyUnsealer?: (secrets: readonly string[]) => LegacyUnsealer;
  /** Spans around the token requests and their upstream calls; default: none are made. */
  tracing?: Tracing;
  /**
   * Where revocations and rotations are kept (logins/store.ts). Default: none, and then `/revoke`
   * answers 501 and an app with rotation does not start.
   */
  loginStore?: LoginStore;
  /** How the Web API proxy reaches the Web API (proxy/forward.ts); default: the global `fetch`. */
  apiFetch?: ApiFetch;
  /** The clock of login lifetimes, idle limits and the reuse grace; injectable for tests. */
  now?: () => number;
}

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
      sha256: options.sha256,
      legacyUnseal: legacy.length > 0 ? options.legacyUnsealer?.(legacy) : undefined,
      logins: options.loginStore,
      now: options.now,
      publicUrl: config.publicUrl,
      dpopNonce: config.dpopNonce,
    });
    served.set(appConfig.name, {
      config: appConfig,
      handlers,
      corsOrigins: new Set(appConfig.corsOrigins),
      session: createSessionHandlers(appConfig, handlers, { now: options.now }),
    });
    // Which key id is which secret, for the key-rotation procedure (README): the metrics show ids only.
    handlers.sealingKeyIds().then(
      (keyIds) => keyIds && deps.logger.info({ app: appConfig.name, keyIds }, 'sealing key ids'),
      () => {},
    );
  }
  return served;
}

/**
 * Rotation's reuse detection needs to remember each login's newest generation: without a store on
 * this runtime, an app that asks for it does not start (rather than rotate without detecting reuse).
 */
function refuseRotationWithoutStore(config: ServiceConfig, store: LoginStore | undefined): void {
  if (store) return;
  const message =
    'needs a login store, and this runtime has none (Node keeps one in memory or in Redis; Workers need the LOGINS Durable Object: docs/sealed-tokens.md)';
  // DPOP=required too: the store keeps the replay cache of DPoP proofs (endpoints/dpop.ts).
  const problems = config.apps.flatMap((app) => {
    const env = app.name === DEFAULT_APP;
    return [
      ...(app.refreshTokens.rotation
        ? [{ variable: env ? 'REFRESH_TOKEN_ROTATION' : `apps.${app.name}.refreshTokenRotation`, message }]
        : []),
      ...(app.dpop === 'required' ? [{ variable: env ? 'DPOP' : `apps.${app.name}.dpop`, message }] : []),
    ];
  });
  if (problems.length === 0) return;
  throw new ConfigError(problems.map((problem) => ({ source: ENVIRONMENT, ...problem })));
}

/**
 * The root POST /token picks the app by client id (oauth-routes.ts): apps that share one cannot be told
 * apart there, so operators hear which, and which one the root serves.
 */
function warnSharedClientIds(config: ServiceConfig, logger: Logger): void {
  const byClientId = new Map<string, string[]>();
  for (const app of config.apps)
    byClientId.set(app.clientId, [...(byClientId.get(app.clientId) ?? []), app.name]);
  for (const apps of byClientId.values()) {
    if (apps.length < 2) continue;
    logger.warn(
      { apps, root: apps.includes(DEFAULT_APP) ? DEFAULT_APP : undefined },
      "these apps share a client id: POST /token at the root serves the environment's app for it, or none; each app's /apps/{name}/token serves that app",
    );
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
  refuseRotationWithoutStore(config, options.loginStore);
  if (config.publicUrl === undefined && config.trustProxy > 0) {
    // Behind a proxy, the origin a request reaches the service on is rarely the one clients use.
    logger.warn(
      {},
      'TRUST_PROXY is set but PUBLIC_URL is not: the OAuth metadata names the origin requests arrive on, which behind a proxy is likely not the public one',
    );
  }
  warnSharedClientIds(config, logger);
  const notice = sessionNotice(config.apps);
  logger.info(notice.fields, notice.message);
  for (const fields of proxyNotices(config.apps))
    logger.info(fields, 'Web API proxy: these calls are forwarded');
  const coalescer = options.coalescer ?? createLocalCoalescer();
  const served = serveApps(config, options, { upstreams, coalescer, metrics, logger });

  const app = new Hono<Env>();
  app.use(requestContext({ logger, metrics }));
  mountTokenEndpoints(app, served, config, {
    store: options.rateLimitStore ?? createMemoryRateLimitStore(),
    metrics,
    clientAddress: options.clientAddress,
    tracing: options.tracing && { tracing: options.tracing, logger },
    apiFetch: options.apiFetch ?? ((input, init) => fetch(input, init)),
  });

  // The read-only endpoints: GET (and HEAD, which Hono answers with the GET route), 405 otherwise.
  const mounts = options.mounts ?? [];
  const named = config.apps.map((a) => a.name).filter((name) => name !== DEFAULT_APP);
  let openApi: OpenApiDocument | undefined;
  const handlers = serviceEndpoints({
    apps: config.apps,
    prefixOf: appPrefix,
    version: options.version,
    metrics,
    metricsToken: config.metricsToken,
    breakers: upstreams.breakers,
    readiness: options.readiness,
    // Built on the first GET /openapi.json, not before the first answer: most services are never
    // asked for it, and it is a part of the start-up's CPU (docs/benchmarks.md, "Start-up").
    get openApi() {
      openApi ??= openApiDocument({ apps: named, defaultApp: served.has(DEFAULT_APP) });
      return openApi;
    },
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
