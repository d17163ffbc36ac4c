/**
 * What every non-Node entry point does: read the configuration from string variables, build the
 * app once per isolate or process, and remember a configuration error so each request can answer
 * with it (a 500 that names the variable, never its value) instead of crashing the runtime.
 */
import type { Hono } from 'hono';
import { type AppOptions, createApp } from '../server/app.js';
import {
  ConfigError,
  ENVIRONMENT,
  type Env,
  loadConfig,
  type ServiceConfig,
  unsealedWarnings,
} from '../server/config/index.js';
import { errorResponse, OAuthError } from '../server/errors.js';
import { loginStoreNotice } from '../server/logins/store.js';
import { createConsoleLogger } from './console-logger.js';

/** Only string values are configuration; platform bindings (KV, rate limiters) are other objects. */
export function stringVariables(bindings: Record<string, unknown>): Env {
  return Object.fromEntries(
    Object.entries(bindings).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

export type Built = { app: Hono; config: ServiceConfig } | { error: ConfigError };

export function buildApp(variables: Env, extra: (config: ServiceConfig) => AppOptions = () => ({})): Built {
  try {
    const config = loadConfig(variables);
    const logger = createConsoleLogger(config.logLevel);
    for (const warning of unsealedWarnings(config)) logger.warn({}, warning);
    const options = extra(config);
    if (config.redisUrl !== undefined && options.coalescer === undefined) {
      logger.warn(
        {},
        'REDIS_URL is set, but this runtime keeps rate limits and refresh coalescing in its own memory (see docs/deploy)',
      );
    }
    if (config.tracing !== undefined && options.tracing === undefined) {
      logger.warn(
        {},
        'OTEL_* variables ask for traces, but only the Node server traces (see docs/observability.md)',
      );
    }
    const notice = loginStoreNotice(options.loginStore);
    logger[notice.level]({}, notice.message);
    const app = createApp(config, { logger, ...options }) as unknown as Hono;
    return { app, config };
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`token-swap: ${error.message}`);
      return { error };
    }
    throw error;
  }
}

/** The answer while the configuration is invalid: which settings to fix, never a value. */
export function misconfigured(error: ConfigError): Response {
  const where = error.problems.map((p) => (p.source === ENVIRONMENT ? p.variable : p.source));
  return errorResponse(
    new OAuthError(
      500,
      'server_error',
      `The token swap service is misconfigured: ${[...new Set(where)].join(', ')}`,
    ),
  );
}

/**
 * Compiles `app`'s router now; no route can be added to `app` afterwards (Hono throws). Hono's default
 * router (SmartRouter over RegExpRouter) only records routes as they are added: its first match adds
 * them all and compiles the matcher. In a fresh Workers isolate that was about three quarters of the
 * first request's CPU (docs/benchmarks.md, "Cloudflare Workers"). A match needs no Request, so an
 * entry that builds its app before the first request (the Worker's module start, Lambda's init
 * phase) pays for it there.
 */
export function compileRouter(app: Pick<Hono, 'router'>): void {
  app.router.match('GET', '/');
}
