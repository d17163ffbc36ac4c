/**
 * The swap service as one Hono app: a `fetch` handler over Web APIs only, so every runtime entry
 * point (Node, Workers, Deno, Bun, Lambda) serves the very same code.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import type { AppConfig, ServiceConfig } from './config.js';
import { errorResponse, jsonResponse, OAuthError, serverError } from './errors.js';
import { type Logger, silentLogger } from './logger.js';
import { createTokenHandlers } from './token-handlers.js';

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
  fetch?: typeof fetch;
  logger?: Logger;
  version?: string;
  /** Extra apps served under a prefix, e.g. the sandbox in `serve --sandbox`. */
  mounts?: readonly Mount[];
}

export interface Variables {
  requestId: string;
  log: Logger;
}

type Env = { Variables: Variables };

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

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

function corsFor(app: AppConfig) {
  const allowed = new Set(app.corsOrigins);
  const withHeaders = cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['Content-Type', 'X-Request-Id'],
    exposeHeaders: ['Retry-After', 'X-Request-Id'],
    maxAge: 600,
  });
  return async function corsGate(c: import('hono').Context<Env>, next: () => Promise<void>) {
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
  const upstreamFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const [defaultApp] = config.apps;
  if (!defaultApp) {
    throw new TypeError('the configuration holds no app');
  }
  const handlers = createTokenHandlers(defaultApp, { fetch: upstreamFetch, logger });
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
    log.info(
      {
        method: c.req.method,
        // The path only: a query string could carry a code a client put in the wrong place.
        path: c.req.path.slice(0, 200),
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
  });

  if (defaultApp.corsOrigins.length > 0) {
    app.use(corsFor(defaultApp));
  }

  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () =>
      errorResponse(
        new OAuthError(413, 'invalid_request', `The request body exceeds ${MAX_BODY_BYTES} bytes`),
      ),
  });

  for (const path of SWAP_PATHS) {
    app.post(path, limit, (c) => handlers.swap(c.req.raw, c.var.log));
  }
  for (const path of REFRESH_PATHS) {
    app.post(path, limit, (c) => handlers.refresh(c.req.raw, c.var.log));
  }
  for (const path of [...SWAP_PATHS, ...REFRESH_PATHS]) {
    app.all(path, () =>
      jsonResponse(
        405,
        { error: 'method_not_allowed', error_description: 'Use POST for this endpoint' },
        { Allow: 'POST, OPTIONS' },
      ),
    );
  }

  app.get('/healthz', () => jsonResponse(200, { status: 'ok' }));

  const mounts = options.mounts ?? [];
  for (const mount of mounts) {
    app.route(mount.path, mount.app as unknown as Hono<Env>);
  }

  app.get('/', () =>
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
        ...Object.fromEntries(mounts.map((m) => [`${m.path}/*`, m.description])),
      },
      sealing: defaultApp.encryptionSecrets.length > 0 ? 'on' : 'off',
    }),
  );

  app.notFound((c) =>
    jsonResponse(404, {
      error: 'not_found',
      error_description: `No endpoint at ${c.req.method} ${c.req.path}`,
    }),
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
