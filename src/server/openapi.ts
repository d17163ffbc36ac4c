/**
 * The HTTP contract of the service as an OpenAPI 3.1 document: plain data, served at
 * `GET /openapi.json` and committed as docs/openapi.json (`npm run openapi` writes it). The tests
 * validate real answers of every kind against it, and fail when the committed file is stale.
 */
import { CODE_VERIFIER_PATTERN } from '../shared/encoding.js';
import { APP_NAME } from './config.js';

export const OPENAPI_PATH = '/openapi.json';

/** The version of this contract, not of the package: bump it when clients would see a change. */
export const API_VERSION = '1.0.0';

export interface OpenApiOptions {
  /** Names of the apps served under `/apps/{app}`: they become the enum of `{app}`. */
  apps?: readonly string[];
  /** Whether an app is served at the root paths (`/swap`, ...). Default true. */
  defaultApp?: boolean;
}

/** A JSON value: the document is plain data. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type OpenApiDocument = { openapi: '3.1.0' } & { [key: string]: Json };

const ref = (kind: 'schemas' | 'responses' | 'headers' | 'parameters' | 'requestBodies', name: string) => ({
  $ref: `#/components/${kind}/${name}`,
});

const JSON_TYPE = 'application/json';

/** Headers of every JSON answer. */
const jsonHeaders = {
  'Cache-Control': ref('headers', 'CacheControl'),
  Pragma: ref('headers', 'Pragma'),
  'X-Request-Id': ref('headers', 'RequestId'),
  'X-Content-Type-Options': ref('headers', 'ContentTypeOptions'),
};

/** Headers of the answers of the token endpoints, which sit behind a rate limit. */
const tokenHeaders = {
  ...jsonHeaders,
  'RateLimit-Policy': ref('headers', 'RateLimitPolicy'),
  RateLimit: ref('headers', 'RateLimit'),
};

function errorResponse(
  description: string,
  example: { error: string; error_description: string },
  options: { code?: string; headers?: Record<string, Json> } = {},
): Json {
  const schema =
    options.code === undefined
      ? ref('schemas', 'Error')
      : {
          type: 'object',
          $ref: '#/components/schemas/Error',
          properties: { error: { const: options.code } },
        };
  return {
    description,
    headers: options.headers ?? tokenHeaders,
    content: { [JSON_TYPE]: { schema, example } },
  };
}

function jsonOk(description: string, schema: Json, headers: Record<string, Json> = jsonHeaders): Json {
  return { description, headers, content: { [JSON_TYPE]: { schema } } };
}

const components = (apps: readonly string[]): Record<string, Json> => ({
  schemas: {
    SwapParameters: {
      type: 'object',
      description: 'Each field at most once; an empty value counts as missing; unknown fields are ignored.',
      required: ['code'],
      properties: {
        code: {
          type: 'string',
          description: 'The authorization code from the redirect.',
          minLength: 1,
          maxLength: 2048,
          pattern: '^[!-~]+$',
        },
        redirect_uri: {
          type: 'string',
          description:
            'The redirect URI the app sent to `/authorize`. Sent to Spotify when it is on the allowlist, else the default one is.',
          maxLength: 2048,
        },
        code_verifier: {
          type: 'string',
          description: 'PKCE verifier, forwarded to Spotify: 43 to 128 characters of `A-Z a-z 0-9 - . _ ~`.',
          pattern: CODE_VERIFIER_PATTERN.source,
        },
      },
      additionalProperties: true,
    },
    RefreshParameters: {
      type: 'object',
      description: 'Each field at most once; an empty value counts as missing; unknown fields are ignored.',
      required: ['refresh_token'],
      properties: {
        refresh_token: {
          type: 'string',
          description:
            'The refresh token as the service handed it out: up to 2048 visible ASCII characters (up to 4096, spaces and line breaks included, for tokens of the Ruby service with `LEGACY_ENCRYPTION_SECRET`).',
          minLength: 1,
          maxLength: 4096,
        },
      },
      additionalProperties: true,
    },
    TokenResponse: {
      type: 'object',
      required: ['access_token', 'token_type', 'expires_in', 'scope'],
      properties: {
        access_token: { type: 'string', description: 'The Spotify access token.', minLength: 1 },
        token_type: { type: 'string', description: 'Always `Bearer` from Spotify.', examples: ['Bearer'] },
        expires_in: {
          type: 'integer',
          description: 'Seconds until the access token expires, as a JSON number.',
          minimum: 0,
          examples: [3600],
        },
        scope: { type: 'string', description: 'The granted scopes, space separated; may be empty.' },
        refresh_token: {
          type: 'string',
          description:
            'The refresh token; from a refresh only when Spotify rotated it. Sealed (`sts1.` and base64url) when the app has sealing secrets.',
          minLength: 1,
        },
      },
      additionalProperties: false,
    },
    Error: {
      type: 'object',
      required: ['error'],
      properties: {
        error: { type: 'string', description: 'An OAuth-style error code.', minLength: 1 },
        error_description: { type: 'string', description: 'What went wrong, for a human.' },
      },
      additionalProperties: false,
    },
    Service: {
      type: 'object',
      required: ['service', 'description', 'endpoints', 'apps'],
      properties: {
        service: { type: 'string', const: 'spotify-token-swap' },
        version: { type: 'string', description: 'The version of the running service, when known.' },
        description: { type: 'string' },
        endpoints: {
          type: 'object',
          description: 'Each endpoint (`METHOD /path`) with one line about it.',
          additionalProperties: { type: 'string' },
        },
        apps: {
          type: 'object',
          description: 'Each served app (`default` is the one of the environment variables) and its paths.',
          additionalProperties: {
            type: 'object',
            required: ['swap', 'refresh', 'sealing'],
            properties: {
              swap: { type: 'string' },
              refresh: { type: 'string' },
              sealing: { type: 'string', enum: ['on', 'off'] },
            },
            additionalProperties: false,
          },
        },
      },
      additionalProperties: false,
    },
    Readiness: {
      type: 'object',
      required: ['status', 'checks'],
      properties: {
        status: { type: 'string', enum: ['ready', 'not_ready'] },
        checks: {
          type: 'object',
          description:
            '`upstream`: the circuit breaker to Spotify Accounts; `redis`: the shared store, with `REDIS_URL`.',
          required: ['upstream'],
          properties: { upstream: ref('schemas', 'Check') },
          additionalProperties: ref('schemas', 'Check'),
        },
      },
      additionalProperties: false,
    },
    Check: {
      type: 'object',
      required: ['ok', 'detail'],
      properties: {
        ok: { type: 'boolean' },
        detail: { type: 'string', examples: ['circuit breaker closed'] },
      },
      additionalProperties: false,
    },
    OpenApi: {
      type: 'object',
      required: ['openapi', 'info', 'paths'],
      properties: {
        openapi: { type: 'string', const: '3.1.0' },
        info: { type: 'object' },
        paths: { type: 'object' },
      },
    },
  },
  responses: {
    SwapTokens: jsonOk(GRANTS.swap.ok, ref('schemas', 'TokenResponse'), tokenHeaders),
    RefreshTokens: jsonOk(GRANTS.refresh.ok, ref('schemas', 'TokenResponse'), tokenHeaders),
    Preflight: {
      description: 'A listed origin: the CORS headers, no body.',
      headers: {
        'Access-Control-Allow-Origin': {
          description: 'The origin of the request; absent when the request has no `Origin`.',
          schema: { type: 'string' },
        },
        'Access-Control-Allow-Methods': {
          required: true,
          schema: { type: 'string', const: 'GET,POST,OPTIONS' },
        },
        'Access-Control-Allow-Headers': {
          required: true,
          schema: { type: 'string', const: 'Content-Type,X-Request-Id' },
        },
        'Access-Control-Max-Age': { required: true, schema: { type: 'integer', const: 600 } },
        'X-Request-Id': ref('headers', 'RequestId'),
        'X-Content-Type-Options': ref('headers', 'ContentTypeOptions'),
      },
    },
    ForbiddenOrigin: errorResponse(
      '`invalid_request`: an origin that is not listed.',
      { error: 'invalid_request', error_description: 'This origin is not allowed' },
      { headers: jsonHeaders },
    ),
    BadRequest: errorResponse(
      '`invalid_request`: a field is missing, malformed or repeated, or the body is not valid JSON; Spotify is not called. `invalid_grant`: Spotify refused the code or refresh token (passed through), or a sealed refresh token does not open.',
      { error: 'invalid_request', error_description: 'The code parameter is required' },
    ),
    SpotifyError: errorResponse(
      'Any other JSON error from Spotify, passed through with its status and body.',
      {
        error: 'invalid_client',
        error_description: 'Invalid client',
      },
    ),
    NotFound: errorResponse(
      '`not_found`: no such endpoint.',
      { error: 'not_found', error_description: 'No such endpoint; GET / lists them' },
      { headers: jsonHeaders },
    ),
    MethodNotAllowed: errorResponse(
      '`method_not_allowed`: any method but POST (and OPTIONS, for a CORS preflight).',
      { error: 'method_not_allowed', error_description: 'Use POST for this endpoint' },
      { headers: { ...jsonHeaders, Allow: ref('headers', 'Allow') } },
    ),
    ReadOnlyMethodNotAllowed: errorResponse(
      '`method_not_allowed`: any method but GET and HEAD.',
      { error: 'method_not_allowed', error_description: 'Use GET for this endpoint' },
      { headers: { ...jsonHeaders, Allow: ref('headers', 'AllowReadOnly') } },
    ),
    PayloadTooLarge: errorResponse('`invalid_request`: the body is over 8 KiB; the connection is closed.', {
      error: 'invalid_request',
      error_description: 'The request body exceeds 8192 bytes',
    }),
    UnsupportedMediaType: errorResponse('`invalid_request`: the body is neither form nor JSON.', {
      error: 'invalid_request',
      error_description: 'Send the parameters as application/x-www-form-urlencoded or application/json',
    }),
    TooManyRequests: errorResponse(
      '`rate_limited`: this address spent its budget for the endpoint (`RATE_LIMIT_*`), or Spotify rate-limited the app.',
      {
        error: 'rate_limited',
        error_description: 'Too many requests from this address; retry after 42 seconds',
      },
      { code: 'rate_limited', headers: { ...tokenHeaders, 'Retry-After': ref('headers', 'RetryAfter') } },
    ),
    BadGateway: errorResponse(
      '`upstream_error`: Spotify answered 5xx or something that is not JSON, or could not be reached.',
      { error: 'upstream_error', error_description: 'Spotify Accounts answered HTTP 503' },
      { code: 'upstream_error' },
    ),
    ServiceUnavailable: errorResponse(
      '`temporarily_unavailable`: Spotify has been failing and the circuit breaker is open, or too many calls to Spotify are in flight; Spotify is not called.',
      {
        error: 'temporarily_unavailable',
        error_description: 'The service is at capacity; retry after 1 second',
      },
      {
        code: 'temporarily_unavailable',
        headers: { ...tokenHeaders, 'Retry-After': ref('headers', 'RetryAfter') },
      },
    ),
    GatewayTimeout: errorResponse(
      '`upstream_timeout`: Spotify did not answer within `UPSTREAM_TIMEOUT_MS`.',
      { error: 'upstream_timeout', error_description: 'Spotify Accounts did not answer within 10000 ms' },
      { code: 'upstream_timeout' },
    ),
    ServerError: errorResponse(
      '`server_error`: a bug or an invalid configuration; the log has the details, the client gets nothing more.',
      { error: 'server_error', error_description: 'The token swap service hit an unexpected error' },
      { code: 'server_error' },
    ),
  },
  headers: {
    CacheControl: {
      description: 'Never stored by caches (RFC 6749 §5.1).',
      required: true,
      schema: { type: 'string', const: 'no-store' },
    },
    Pragma: {
      description: 'For HTTP/1.0 caches.',
      required: true,
      schema: { type: 'string', const: 'no-cache' },
    },
    RequestId: {
      description:
        "The request's `X-Request-Id` when it is 1-128 characters of `A-Za-z0-9._:-`, else a fresh UUID.",
      required: true,
      schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
    },
    ContentTypeOptions: { required: true, schema: { type: 'string', const: 'nosniff' } },
    RetryAfter: {
      description: 'Whole seconds to wait before trying again (never an HTTP date).',
      required: true,
      schema: { type: 'integer', minimum: 1 },
    },
    RateLimitPolicy: {
      description:
        'The budget of this endpoint per client address and window: `swap;q=30;w=60`. Sent while the rate limit of the endpoint is on.',
      schema: { type: 'string', pattern: '^(swap|refresh);q=\\d+;w=\\d+$' },
    },
    RateLimit: {
      description:
        'What is left of the budget: `swap;r=29;t=60` (requests left, seconds until the window resets). Sent while the rate limit of the endpoint is on.',
      schema: { type: 'string', pattern: '^(swap|refresh);r=\\d+;t=\\d+$' },
    },
    Allow: {
      required: true,
      description: 'POST, and OPTIONS where CORS origins are configured for the app',
      schema: { type: 'string', enum: ['POST', 'POST, OPTIONS'] },
    },
    AllowReadOnly: { required: true, schema: { type: 'string', const: 'GET, HEAD' } },
    WwwAuthenticate: { required: true, schema: { type: 'string', const: 'Bearer' } },
  },
  parameters: {
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
    Swap: {
      required: true,
      description: 'Form (what Spotify clients send) or JSON.',
      content: {
        'application/x-www-form-urlencoded': { schema: ref('schemas', 'SwapParameters') },
        [JSON_TYPE]: { schema: ref('schemas', 'SwapParameters') },
      },
    },
    Refresh: {
      required: true,
      description: 'Form (what Spotify clients send) or JSON.',
      content: {
        'application/x-www-form-urlencoded': { schema: ref('schemas', 'RefreshParameters') },
        [JSON_TYPE]: { schema: ref('schemas', 'RefreshParameters') },
      },
    },
  },
  securitySchemes: {
    metricsToken: {
      type: 'http',
      scheme: 'bearer',
      description: '`METRICS_TOKEN`: required by `GET /metrics` when it is set.',
    },
  },
});

interface TokenEndpoint {
  path: '/swap' | '/api/token' | '/refresh' | '/api/refresh_token';
  operationId: string;
  grant: 'swap' | 'refresh';
}

const TOKEN_ENDPOINTS: readonly TokenEndpoint[] = [
  { path: '/swap', operationId: 'swap', grant: 'swap' },
  { path: '/api/token', operationId: 'apiToken', grant: 'swap' },
  { path: '/refresh', operationId: 'refresh', grant: 'refresh' },
  { path: '/api/refresh_token', operationId: 'apiRefreshToken', grant: 'refresh' },
];

const GRANTS = {
  swap: {
    summary: 'Exchange an authorization code for tokens',
    description:
      'Sends the code to Spotify with the client secret. Never retried once sent: codes are single use.',
    ok: 'The tokens, with a `refresh_token` (sealed when the app has sealing secrets).',
  },
  refresh: {
    summary: 'Get a new access token with a refresh token',
    description:
      'Opens a sealed refresh token and sends it to Spotify. Identical concurrent refreshes share one call.',
    ok: 'A new access token; `refresh_token` only when Spotify rotated it, else keep the one you have.',
  },
} as const;

function tokenPathItem(endpoint: TokenEndpoint, perApp: boolean): Json {
  const grant = GRANTS[endpoint.grant];
  const canonical = endpoint.grant === 'swap' ? '/swap' : '/refresh';
  const alias =
    endpoint.path === canonical ? '' : ` (alias of POST ${perApp ? '/apps/{app}' : ''}${canonical})`;
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
      requestBody: ref('requestBodies', endpoint.grant === 'swap' ? 'Swap' : 'Refresh'),
      responses: {
        '200': ref('responses', endpoint.grant === 'swap' ? 'SwapTokens' : 'RefreshTokens'),
        '400': ref('responses', 'BadRequest'),
        ...notFound,
        '405': ref('responses', 'MethodNotAllowed'),
        '413': ref('responses', 'PayloadTooLarge'),
        '415': ref('responses', 'UnsupportedMediaType'),
        '429': ref('responses', 'TooManyRequests'),
        '4XX': ref('responses', 'SpotifyError'),
        '500': ref('responses', 'ServerError'),
        '502': ref('responses', 'BadGateway'),
        '503': ref('responses', 'ServiceUnavailable'),
        '504': ref('responses', 'GatewayTimeout'),
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
    paths[`/apps/{app}${endpoint.path}`] = tokenPathItem(endpoint, true);

  paths['/'] = getOperation('describe', 'What the service is, its endpoints and apps', {
    '200': jsonOk('The description.', ref('schemas', 'Service')),
  });
  paths['/healthz'] = getOperation('liveness', 'Liveness: the process runs', {
    '200': jsonOk('Alive.', {
      type: 'object',
      required: ['status'],
      properties: { status: { type: 'string', const: 'ok' } },
      additionalProperties: false,
    }),
  });
  const readiness = (status: string) => ({
    type: 'object',
    $ref: '#/components/schemas/Readiness',
    properties: { status: { const: status } },
  });
  paths['/readyz'] = getOperation(
    'readiness',
    'Readiness: whether a load balancer should send traffic here',
    {
      '200': jsonOk('Every check is ok.', readiness('ready')),
      '503': jsonOk(
        'A check failed: the circuit breaker is open, or Redis is unreachable. The service still answers.',
        readiness('not_ready'),
      ),
    },
  );
  paths['/metrics'] = getOperation(
    'metrics',
    'Prometheus metrics',
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
  paths[OPENAPI_PATH] = getOperation('openapi', 'This document', {
    '200': jsonOk('The OpenAPI 3.1 document.', ref('schemas', 'OpenApi')),
  });

  return {
    openapi: '3.1.0',
    info: {
      title: 'Spotify token swap',
      version: API_VERSION,
      summary: 'Exchanges authorization codes and refreshes tokens so the client secret stays on the server.',
      description:
        'Every response is JSON with `Content-Type: application/json` exactly, but for `GET /metrics` and CORS preflights. Errors are `{"error", "error_description"}`.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: [
      { name: 'tokens', description: 'The token endpoints of the default app (the environment variables).' },
      { name: 'apps', description: 'The token endpoints of the apps of `token-swap.config.json`.' },
      { name: 'service', description: 'Health, metrics and descriptions.' },
    ],
    paths,
    components: components(apps),
  };
}
