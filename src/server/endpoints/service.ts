/**
 * The read-only endpoints: the root page that says what the service is, liveness, readiness, metrics
 * and the OpenAPI document. Each is a plain handler; app.ts mounts them at the contract's paths.
 */
import type { Handler } from 'hono';
import { timingSafeEqual } from '../../shared/encoding.js';
import { jsonResponse } from '../answer.js';
import type { AppConfig } from '../config/index.js';
import { DEFAULT_APP } from '../config/index.js';
import {
  API_PROXY,
  describeTokenEndpoint,
  OAUTH,
  OAUTH_DESCRIPTIONS,
  OPENAPI_PATH,
  SERVICE_ENDPOINTS,
  SESSION_ENDPOINTS,
  type ServicePath,
  TOKEN_ENDPOINTS,
} from '../contract.js';
import { errorResponse, notFound, OAuthError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { OpenApiDocument } from '../openapi/index.js';
import { type ReadinessCheck, readinessOf } from '../readiness.js';
import type { BreakerState, CircuitBreaker } from '../upstream/breaker.js';

export interface ServiceEndpointsOptions {
  apps: readonly AppConfig[];
  /** Where each app's endpoints live (`''` at the root, `/apps/{name}`). */
  prefixOf: (app: AppConfig) => string;
  version: string | undefined;
  metrics: Metrics;
  metricsToken: string | undefined;
  breakers: () => readonly CircuitBreaker[];
  /** Extra readiness checks, e.g. Redis. */
  readiness: (() => Promise<Record<string, ReadinessCheck>>) | undefined;
  openApi: OpenApiDocument;
  /** Extra entries of the root page's endpoint list, e.g. a mounted sandbox. */
  extraEndpoints: Readonly<Record<string, string>>;
}

/** The worst state among the breakers: one open upstream is enough to say so. */
function worst(states: readonly BreakerState[]): BreakerState {
  return states.includes('open') ? 'open' : states.includes('half_open') ? 'half_open' : 'closed';
}

/** An app's Web API proxy on the root page: its prefix and what it allows, for an app that has one. */
function proxyOf(app: AppConfig, prefix: string): { proxy?: string } {
  const rules = app.apiProxyPaths ?? [];
  if (rules.length === 0) return {};
  return {
    proxy: `${prefix}${API_PROXY.path}/v1/...: ${rules.map((r) => `${r.method} ${r.path}`).join(', ')}`,
  };
}

export function serviceEndpoints(options: ServiceEndpointsOptions): Record<ServicePath, Handler> {
  const { metrics, metricsToken } = options;

  const root = {
    service: 'spotify-token-swap',
    version: options.version,
    description:
      'Token swap service for Spotify apps: exchanges authorization codes and refreshes tokens so the client secret stays on the server.',
    endpoints: {
      ...Object.fromEntries(TOKEN_ENDPOINTS.map((e) => [`POST ${e.path}`, describeTokenEndpoint(e)])),
      [`POST ${OAUTH.token}`]: OAUTH_DESCRIPTIONS.token,
      ...Object.fromEntries(SESSION_ENDPOINTS.map((e) => [`POST ${e.path}`, e.summary])),
      ...(options.apps.some((app) => app.name === DEFAULT_APP)
        ? { [`GET ${OAUTH.metadata}`]: OAUTH_DESCRIPTIONS.metadata }
        : {}),
      ...Object.fromEntries(
        (Object.entries(SERVICE_ENDPOINTS) as [ServicePath, string][])
          .filter(([path]) => path !== '/' && (path !== '/metrics' || metrics.render !== undefined))
          .map(([path, summary]) => [`GET ${path}`, summary]),
      ),
      ...options.extraEndpoints,
    },
    apps: Object.fromEntries(
      options.apps.map((app) => [
        app.name,
        {
          swap: `${options.prefixOf(app)}/swap`,
          refresh: `${options.prefixOf(app)}/refresh`,
          revoke: `${options.prefixOf(app)}/revoke`,
          token: `${options.prefixOf(app)}${OAUTH.token}`,
          metadata: `${OAUTH.metadata}${options.prefixOf(app)}`,
          sealing: app.encryptionSecrets.length > 0 ? 'on' : 'off',
          ...proxyOf(app, options.prefixOf(app)),
        },
      ]),
    ),
  };

  return {
    '/': () => jsonResponse(200, root),
    '/healthz': () => jsonResponse(200, { status: 'ok' }),
    [OPENAPI_PATH]: () => jsonResponse(200, options.openApi),
    '/readyz': async () => {
      const state = worst(options.breakers().map((breaker) => breaker.state()));
      const checks: Record<string, ReadinessCheck> = {
        upstream: { ok: state !== 'open', detail: `circuit breaker ${state}`, shared: true },
        ...(await options.readiness?.()),
      };
      const status = readinessOf(checks);
      return jsonResponse(status === 'not_ready' ? 503 : 200, { status, checks });
    },
    '/metrics': async (c) => {
      if (!metrics.render) return errorResponse(notFound('Metrics are not enabled'));
      if (metricsToken !== undefined) {
        const presented = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
        if (!(await timingSafeEqual(presented, metricsToken))) {
          return errorResponse(
            new OAuthError(401, 'invalid_token', 'GET /metrics needs the METRICS_TOKEN bearer token', {
              'WWW-Authenticate': 'Bearer',
            }),
          );
        }
      }
      const { contentType, body } = await metrics.render();
      return new Response(body, { headers: { 'Content-Type': contentType, 'Cache-Control': 'no-store' } });
    },
  };
}
