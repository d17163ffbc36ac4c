/**
 * The HTTP contract of the service (contract.ts) as an OpenAPI 3.1 document: plain data, served at
 * `GET /openapi.json` and committed as docs/openapi.json (`npm run openapi` writes it). The tests
 * validate real answers of every kind against it, and fail when the committed file is stale.
 */
import { APP_NAME } from '../config/index.js';
import {
  APPS_PATH,
  GRANTS,
  type Grant,
  OPENAPI_PATH,
  SERVICE_ENDPOINTS,
  TOKEN_ENDPOINTS,
  type TokenEndpoint,
} from '../contract.js';
import { oauthPaths, oauthResponses, oauthSchemas } from './oauth.js';
import { proxyPaths, proxyResponses } from './proxy.js';
import { headers, responses } from './responses.js';
import { schemas } from './schemas.js';
import { sessionPaths, sessionResponses } from './session.js';
import { errorResponse, FORM_TYPE, JSON_TYPE, type Json, jsonHeaders, jsonOk, ref } from './shared.js';
import { PACKAGE_VERSION } from './version.js';

export interface OpenApiOptions {
  /** Names of the apps served under `/apps/{app}`: they become the enum of `{app}`. */
  apps?: readonly string[];
  /** Whether an app is served at the root paths (`/swap`, ...). Default true. */
  defaultApp?: boolean;
}

export type OpenApiDocument = { openapi: '3.1.0' } & { [key: string]: Json };

const tokenRequestBody = (schema: string): Json => ({
  required: true,
  description: 'Form (what Spotify clients send) or JSON.',
  content: {
    [FORM_TYPE]: { schema: ref('schemas', schema) },
    [JSON_TYPE]: { schema: ref('schemas', schema) },
  },
});

const components = (apps: readonly string[]): Record<string, Json> => ({
  schemas: { ...schemas, ...oauthSchemas },
  responses: { ...responses, ...oauthResponses, ...sessionResponses, ...proxyResponses },
  headers,
  parameters: {
    DPoP: {
      name: 'DPoP',
      in: 'header',
      required: false,
      description:
        "A DPoP proof (RFC 9449 §4): a JWS with `typ` `dpop+jwt`, an `alg` of the metadata's `dpop_signing_alg_values_supported`, the public key in `jwk`, and the claims `htm` (POST), `htu` (this endpoint's public URL: `PUBLIC_URL` and the path, else the URL requested; no query), `iat` (at most 60 s old, 5 s ahead) and `jti` (never used before); with `DPOP_NONCE=1` also `nonce`, the value of a `DPoP-Nonce` header the service answered with (every answer carries one then) in the last two minutes. With a code exchange, the refresh tokens of the login are bound to the key; a bound token is refreshed and revoked with a proof by that key only. The access token stays a Bearer token (§5).",
      schema: { type: 'string', pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$' },
    },
    App: {
      name: 'app',
      in: 'path',
      required: true,
      description: 'The name of an app of `token-swap.config.json`.',
      schema:
        apps.length > 0
          ? { type: 'string', pattern: APP_NAME.source, enum: [...apps] }
          : { type: 'string', pattern: APP_NAME.source },
    },
  },
  requestBodies: {
    Swap: tokenRequestBody('SwapParameters'),
    Refresh: tokenRequestBody('RefreshParameters'),
    Revoke: tokenRequestBody('RevokeParameters'),
  },
  securitySchemes: {
    metricsToken: {
      type: 'http',
      scheme: 'bearer',
      description: '`METRICS_TOKEN`: required by `GET /metrics` when it is set.',
    },
  },
});

const REQUEST_BODIES: Record<Grant, string> = { swap: 'Swap', refresh: 'Refresh', revoke: 'Revoke' };
const OK_RESPONSES: Record<Grant, string> = {
  swap: 'SwapTokens',
  refresh: 'RefreshTokens',
  revoke: 'Revoked',
};

function tokenPathItem(endpoint: TokenEndpoint, perApp: boolean): Json {
  const grant = GRANTS[endpoint.grant];
  const alias =
    endpoint.aliasOf === undefined
      ? ''
      : ` (alias of POST ${perApp ? `${APPS_PATH}/{app}` : ''}${endpoint.aliasOf})`;
  const operationId = perApp
    ? `app${endpoint.operationId[0]?.toUpperCase()}${endpoint.operationId.slice(1)}`
    : endpoint.operationId;
  const tags = [perApp ? 'apps' : 'tokens'];
  const notFound: Record<string, Json> = perApp
    ? { '404': { ...ref('responses', 'NotFound'), description: 'No such app.' } }
    : {};
  return {
    ...(perApp ? { parameters: [ref('parameters', 'App')] } : {}),
    post: {
      operationId,
      tags,
      summary: `${grant.summary}${alias}`,
      description: grant.description,
      parameters: [ref('parameters', 'DPoP')],
      requestBody: ref('requestBodies', REQUEST_BODIES[endpoint.grant]),
      responses: {
        '200': ref('responses', OK_RESPONSES[endpoint.grant]),
        '400': ref('responses', 'BadRequest'),
        ...notFound,
        '405': ref('responses', 'MethodNotAllowed'),
        '413': ref('responses', 'PayloadTooLarge'),
        '415': ref('responses', 'UnsupportedMediaType'),
        '429': ref('responses', 'TooManyRequests'),
        ...(endpoint.grant === 'revoke'
          ? {
              '500': ref('responses', 'ServerError'),
              '501': ref('responses', 'RevocationUnavailable'),
              '503': ref('responses', 'ServiceUnavailable'),
            }
          : {
              '4XX': ref('responses', 'SpotifyError'),
              '500': ref('responses', 'ServerError'),
              '502': ref('responses', 'BadGateway'),
              '503': ref('responses', 'ServiceUnavailable'),
              '504': ref('responses', 'GatewayTimeout'),
            }),
      },
    },
    options: {
      operationId: `${operationId}Preflight`,
      tags,
      summary: 'CORS preflight',
      description: `Answered for the origins in ${perApp ? "the app's `corsOrigins`" : '`CORS_ORIGINS`'} only.`,
      responses: {
        '204': ref('responses', 'Preflight'),
        '403': ref('responses', 'ForbiddenOrigin'),
        '405': { ...ref('responses', 'MethodNotAllowed'), description: 'No origin is listed for this app.' },
        ...notFound,
        '500': ref('responses', 'ServerError'),
      },
    },
  };
}

function getOperation(
  operationId: string,
  summary: string,
  responses: Record<string, Json>,
  extra: Record<string, Json> = {},
): Json {
  return {
    get: {
      operationId,
      tags: ['service'],
      summary,
      ...extra,
      responses: {
        ...responses,
        '405': ref('responses', 'ReadOnlyMethodNotAllowed'),
        '500': ref('responses', 'ServerError'),
      },
    },
  };
}

/** The OpenAPI 3.1 document of the service, with the named apps as the values of `{app}`. */
export function openApiDocument(options: OpenApiOptions = {}): OpenApiDocument {
  const apps = options.apps ?? [];
  const paths: Record<string, Json> = {};
  if (options.defaultApp ?? true) {
    for (const endpoint of TOKEN_ENDPOINTS) paths[endpoint.path] = tokenPathItem(endpoint, false);
  }
  for (const endpoint of TOKEN_ENDPOINTS)
    paths[`${APPS_PATH}/{app}${endpoint.path}`] = tokenPathItem(endpoint, true);
  Object.assign(
    paths,
    oauthPaths(),
    sessionPaths(options.defaultApp ?? true),
    proxyPaths(options.defaultApp ?? true),
  );

  paths['/'] = getOperation('describe', SERVICE_ENDPOINTS['/'], {
    '200': jsonOk('The description.', ref('schemas', 'Service')),
  });
  paths['/healthz'] = getOperation('liveness', SERVICE_ENDPOINTS['/healthz'], {
    '200': jsonOk('Alive.', {
      type: 'object',
      required: ['status'],
      properties: { status: { type: 'string', const: 'ok' } },
      additionalProperties: false,
    }),
  });
  const readiness = (...statuses: string[]) => ({
    type: 'object',
    $ref: '#/components/schemas/Readiness',
    properties: { status: { enum: statuses } },
  });
  paths['/readyz'] = getOperation('readiness', SERVICE_ENDPOINTS['/readyz'], {
    '200': jsonOk(
      'This replica serves: every check is ok (`ready`), or a shared dependency is failing (`degraded`: the circuit breaker is open, or Redis is unreachable).',
      readiness('ready', 'degraded'),
    ),
    '503': jsonOk('This replica should get no traffic: it is shutting down.', readiness('not_ready')),
  });
  paths['/metrics'] = getOperation(
    'metrics',
    SERVICE_ENDPOINTS['/metrics'],
    {
      '200': {
        description: 'Prometheus text format (0.0.4).',
        headers: {
          'Cache-Control': ref('headers', 'CacheControl'),
          'X-Request-Id': ref('headers', 'RequestId'),
          'X-Content-Type-Options': ref('headers', 'ContentTypeOptions'),
        },
        content: { 'text/plain': { schema: { type: 'string' } } },
      },
      '401': errorResponse(
        '`invalid_token`: `METRICS_TOKEN` is set and the request does not carry it.',
        { error: 'invalid_token', error_description: 'GET /metrics needs the METRICS_TOKEN bearer token' },
        { headers: { ...jsonHeaders, 'WWW-Authenticate': ref('headers', 'WwwAuthenticate') } },
      ),
      '404': { ...ref('responses', 'NotFound'), description: 'This runtime collects no metrics.' },
    },
    { security: [{}, { metricsToken: [] }] },
  );
  paths[OPENAPI_PATH] = getOperation('openapi', SERVICE_ENDPOINTS[OPENAPI_PATH], {
    '200': jsonOk('The OpenAPI 3.1 document.', ref('schemas', 'OpenApi')),
  });

  return {
    openapi: '3.1.0',
    info: {
      title: 'Spotify token swap',
      version: PACKAGE_VERSION,
      summary: 'Exchanges authorization codes and refreshes tokens so the client secret stays on the server.',
      description:
        'Every response is JSON with `Content-Type: application/json` exactly, but for `GET /metrics` and CORS preflights. Errors are `{"error", "error_description"}`.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: [
      { name: 'tokens', description: 'The token endpoints of the default app (the environment variables).' },
      { name: 'apps', description: 'The token endpoints of the apps of `token-swap.config.json`.' },
      {
        name: 'oauth',
        description: 'Standard OAuth 2.0: the token endpoint and the RFC 8414 metadata, for OAuth libraries.',
      },
      {
        name: 'sessions',
        description:
          'Browser apps: the refresh token in an HttpOnly cookie, and the Web API proxy (docs/sessions.md).',
      },
      { name: 'service', description: 'Health, metrics and descriptions.' },
    ],
    paths,
    components: components(apps),
  };
}
