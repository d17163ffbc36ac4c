/**
 * The Web API proxy in the OpenAPI document (proxy/routes.ts, docs/sessions.md "Web API proxy"): at
 * the root and per app. Its answers are Spotify's, passed back, or the service's own refusals; the
 * document says which headers either carries. OpenAPI has no parameter that spans path segments:
 * `{path}` stands for the rest of the Web API path, slashes included.
 */

import { PROXY_METHODS } from '../config/index.js';
import { API_PROXY, APPS_PATH, CORS, SESSION_CSRF_HEADER } from '../contract.js';
import { COOKIE_NAME } from '../session/cookie.js';
import { JSON_TYPE, type Json, ref } from './shared.js';

const optional = (schema: Json, description: string): Json => ({ description, schema });

/** What every answer of the proxy may carry: Spotify's few headers and the service's own. */
const proxyHeaders: Record<string, Json> = {
  'Cache-Control': ref('headers', 'CacheControl'),
  Pragma: optional({ type: 'string', const: 'no-cache' }, "On the service's own answers."),
  'Retry-After': optional(
    { type: 'string' },
    "Spotify's, as it sent it; or the service's own, whole seconds.",
  ),
  'Set-Cookie': optional(
    { type: 'string' },
    `\`${COOKIE_NAME}\`: updated after a refresh, cleared when the login ended. Never Spotify's.`,
  ),
  'RateLimit-Policy': ref('headers', 'RateLimitPolicy'),
  RateLimit: ref('headers', 'RateLimit'),
  'X-Request-Id': ref('headers', 'RequestId'),
  'X-Content-Type-Options': ref('headers', 'ContentTypeOptions'),
};

/** Spotify's Web API error object, `{"error": {"status", "message", "reason"?}}`. */
const webApiError: Json = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['status', 'message'],
      properties: { status: { type: 'integer' }, message: { type: 'string' }, reason: { type: 'string' } },
    },
  },
};

export const proxyResponses: Record<string, Json> = {
  ProxyAnswer: {
    description: "Spotify's answer: its status, `Content-Type` and body.",
    headers: proxyHeaders,
    content: { [JSON_TYPE]: { schema: {} } },
  },
  ProxyNoContent: {
    description: "Spotify's 204 (nothing plays, a command done): no body.",
    headers: proxyHeaders,
  },
  ProxyError: {
    description:
      "Spotify's error, passed back with its status and body (the Web API's error object, or the plain text of its edge), or one of the service's own: `path_not_allowed` (403: not on the allowlist), `invalid_request` (403: no `X-CSRF: 1`, or a foreign `Origin`), `login_required` (401), `not_found` (404: no proxy for this app), `rate_limited` (429), `upstream_error` (502), `upstream_timeout` (504).",
    headers: proxyHeaders,
    content: {
      [JSON_TYPE]: { schema: { anyOf: [ref('schemas', 'Error'), webApiError] } },
      'text/plain': { schema: { type: 'string' } },
    },
  },
  ProxyPreflight: {
    description: 'A listed origin: the CORS headers with credentials, no body.',
    headers: {
      'Access-Control-Allow-Origin': { required: true, schema: { type: 'string' } },
      'Access-Control-Allow-Credentials': { required: true, schema: { type: 'string', const: 'true' } },
      'Access-Control-Allow-Methods': {
        required: true,
        schema: { type: 'string', const: [...PROXY_METHODS, 'OPTIONS'].join(',') },
      },
      'Access-Control-Allow-Headers': {
        required: true,
        schema: { type: 'string', const: [...CORS.allowHeaders, SESSION_CSRF_HEADER].join(',') },
      },
      'Access-Control-Max-Age': { required: true, schema: { type: 'integer', const: CORS.maxAgeSeconds } },
      'X-Request-Id': ref('headers', 'RequestId'),
      'X-Content-Type-Options': ref('headers', 'ContentTypeOptions'),
    },
  },
};

const parameters: Json[] = [
  {
    name: 'path',
    in: 'path',
    required: true,
    description: 'The rest of the Web API path after `/v1/`, slashes included (e.g. `me/player`).',
    schema: { type: 'string' },
  },
  {
    name: SESSION_CSRF_HEADER,
    in: 'header',
    required: true,
    description: 'Must be `1`, as on the session endpoints.',
    schema: { type: 'string', const: '1' },
  },
  {
    name: 'Origin',
    in: 'header',
    required: true,
    description: "The service's own origin, or one of the app's CORS allowlist.",
    schema: { type: 'string' },
  },
  { name: COOKIE_NAME, in: 'cookie', required: true, schema: { type: 'string' } },
];

function proxyPathItem(perApp: boolean): Json {
  const prefix = perApp ? 'appProxy' : 'proxy';
  const notFound = perApp ? 'No such app, or no proxy for it.' : 'No proxy: `API_PROXY_PATHS` is not set.';
  const responses: Record<string, Json> = {
    '200': ref('responses', 'ProxyAnswer'),
    '204': ref('responses', 'ProxyNoContent'),
    '401': ref('responses', 'ProxyError'),
    '403': ref('responses', 'ProxyError'),
    '404': { ...ref('responses', 'ProxyError'), description: notFound },
    '413': ref('responses', 'PayloadTooLarge'),
    '429': ref('responses', 'ProxyError'),
    '4XX': ref('responses', 'ProxyError'),
    '501': ref('responses', 'SessionUnavailable'),
    '5XX': ref('responses', 'ProxyError'),
  };
  const operation = (method: string): Json => ({
    operationId: `${prefix}${method[0]}${method.slice(1).toLowerCase()}`,
    tags: ['sessions'],
    summary: API_PROXY.summary,
    description: API_PROXY.description,
    parameters,
    ...(method === 'GET'
      ? {}
      : { requestBody: { required: false, content: { [JSON_TYPE]: { schema: {} } } } }),
    responses,
  });
  return {
    ...(perApp ? { parameters: [ref('parameters', 'App')] } : {}),
    ...Object.fromEntries(PROXY_METHODS.map((method) => [method.toLowerCase(), operation(method)])),
    options: {
      operationId: `${prefix}Preflight`,
      tags: ['sessions'],
      summary: 'CORS preflight, with credentials',
      parameters: [parameters[0] as Json],
      responses: {
        '204': ref('responses', 'ProxyPreflight'),
        '403': ref('responses', 'ForbiddenOrigin'),
        '404': { ...ref('responses', 'ProxyError'), description: notFound },
      },
    },
  };
}

export function proxyPaths(defaultApp: boolean): Record<string, Json> {
  const paths: Record<string, Json> = {};
  if (defaultApp) paths[`${API_PROXY.path}/v1/{path}`] = proxyPathItem(false);
  paths[`${APPS_PATH}/{app}${API_PROXY.path}/v1/{path}`] = proxyPathItem(true);
  return paths;
}
