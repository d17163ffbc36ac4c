/**
 * The session endpoints in the OpenAPI document (session-routes.ts, docs/sessions.md): at the root and
 * per app, like the token endpoints, with the cookie, the CSRF header and credentialed CORS.
 */
import {
  APPS_PATH,
  CORS,
  SESSION_CSRF_HEADER,
  SESSION_ENDPOINTS,
  type SessionEndpoint,
} from '../contract.js';
import { COOKIE_NAME } from '../session/cookie.js';
import { errorResponse, FORM_TYPE, JSON_TYPE, type Json, jsonHeaders, ref, tokenHeaders } from './shared.js';

const setCookie = (description: string): Json => ({ description, schema: { type: 'string' } });

const withCookie = (headers: Record<string, Json>, description: string): Record<string, Json> => ({
  ...headers,
  'Set-Cookie': setCookie(description),
});

export const sessionResponses: Record<string, Json> = {
  SessionTokens: {
    description:
      'The access token, never the refresh token: that is in the cookie, sealed. A new cookie comes with every answer that did not come from it (a swap, a refresh).',
    headers: withCookie(
      tokenHeaders,
      `\`${COOKIE_NAME}=tsc1....; Max-Age=<the login's seconds left>; Path=/; HttpOnly; Secure; SameSite=Strict\`, no \`Domain\`.`,
    ),
    content: {
      [JSON_TYPE]: {
        schema: {
          type: 'object',
          $ref: '#/components/schemas/TokenResponse',
          not: { required: ['refresh_token'] },
        },
      },
    },
  },
  SessionEnded: {
    description: 'The login is revoked where the runtime keeps a login store; the cookie is cleared.',
    headers: withCookie(jsonHeaders, `\`${COOKIE_NAME}=; Max-Age=0; ...\`: the cookie cleared.`),
    content: {
      [JSON_TYPE]: { schema: { type: 'object', additionalProperties: false, maxProperties: 0 } },
    },
  },
  SessionBadRequest: errorResponse(
    "As the token endpoints' 400; `invalid_grant` from `/session/token` (the login was revoked, ended, or its token reused) also clears the cookie.",
    { error: 'invalid_grant', error_description: 'The login was revoked: the user must sign in again' },
    { headers: { ...withCookie(tokenHeaders, 'The cookie cleared, with `invalid_grant`.') } },
  ),
  LoginRequired: errorResponse(
    '`login_required`: no session cookie, or one that does not open; the cookie is cleared.',
    { error: 'login_required', error_description: 'No session: sign in again (POST /session/swap)' },
    { code: 'login_required', headers: withCookie(tokenHeaders, 'The cookie cleared.') },
  ),
  SessionForbidden: errorResponse(
    `\`invalid_request\`: no \`${SESSION_CSRF_HEADER}: 1\` header, or an \`Origin\` that is neither the service's own nor on the app's CORS allowlist (or none at all).`,
    {
      error: 'invalid_request',
      error_description: `Session requests need the header ${SESSION_CSRF_HEADER}: 1`,
    },
    { headers: jsonHeaders },
  ),
  SessionUnavailable: errorResponse(
    "`session_unavailable`: the app does not seal refresh tokens (`ENCRYPTION_SECRET=none`), so there is no key for the cookie, or it has `DPOP=required`, whose logins must all be bound to a key (a session's login is bound to its cookie instead). From `/session/logout` also `revocation_unavailable` (no login store): the cookie is cleared, the login is not revoked.",
    {
      error: 'session_unavailable',
      error_description:
        'Session endpoints need sealing: this app has ENCRYPTION_SECRET=none (see docs/sessions.md)',
    },
    { headers: withCookie(tokenHeaders, 'From `/session/logout`: the cookie cleared.') },
  ),
  SessionPreflight: {
    description: 'A listed origin: the CORS headers with credentials, no body.',
    headers: {
      'Access-Control-Allow-Origin': { required: true, schema: { type: 'string' } },
      'Access-Control-Allow-Credentials': { required: true, schema: { type: 'string', const: 'true' } },
      'Access-Control-Allow-Methods': { required: true, schema: { type: 'string', const: 'POST,OPTIONS' } },
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
    name: SESSION_CSRF_HEADER,
    in: 'header',
    required: true,
    description:
      'Must be `1`: a cross-site form cannot send it, a cross-origin script not without a preflight.',
    schema: { type: 'string', const: '1' },
  },
  {
    name: 'Origin',
    in: 'header',
    required: true,
    description: "The service's own origin, or one of the app's CORS allowlist.",
    schema: { type: 'string' },
  },
  { name: COOKIE_NAME, in: 'cookie', required: false, schema: { type: 'string' } },
  ref('parameters', 'DPoP'),
];

const swapBody: Json = {
  required: true,
  description: 'As `/swap`: form or JSON.',
  content: {
    [FORM_TYPE]: { schema: ref('schemas', 'SwapParameters') },
    [JSON_TYPE]: { schema: ref('schemas', 'SwapParameters') },
  },
};

const okOf = (endpoint: SessionEndpoint) =>
  endpoint.path === '/session/logout' ? 'SessionEnded' : 'SessionTokens';

function sessionPathItem(endpoint: SessionEndpoint, perApp: boolean): Json {
  const operationId = perApp
    ? `app${endpoint.operationId[0]?.toUpperCase()}${endpoint.operationId.slice(1)}`
    : endpoint.operationId;
  const notFound: Record<string, Json> = perApp
    ? { '404': { ...ref('responses', 'NotFound'), description: 'No such app.' } }
    : {};
  const tags = ['sessions'];
  return {
    ...(perApp ? { parameters: [ref('parameters', 'App')] } : {}),
    post: {
      operationId,
      tags,
      summary: endpoint.summary,
      description: endpoint.description,
      parameters,
      ...(endpoint.path === '/session/swap' ? { requestBody: swapBody } : {}),
      responses: {
        '200': ref('responses', okOf(endpoint)),
        '400': ref('responses', 'SessionBadRequest'),
        '401': ref('responses', 'LoginRequired'),
        '403': ref('responses', 'SessionForbidden'),
        ...notFound,
        '405': ref('responses', 'MethodNotAllowed'),
        '413': ref('responses', 'PayloadTooLarge'),
        '415': ref('responses', 'UnsupportedMediaType'),
        '429': ref('responses', 'TooManyRequests'),
        '4XX': ref('responses', 'SpotifyError'),
        '500': ref('responses', 'ServerError'),
        '501': ref('responses', 'SessionUnavailable'),
        '502': ref('responses', 'BadGateway'),
        '503': ref('responses', 'ServiceUnavailable'),
        '504': ref('responses', 'GatewayTimeout'),
      },
    },
    options: {
      operationId: `${operationId}Preflight`,
      tags,
      summary: 'CORS preflight, with credentials',
      description: `Answered for the origins in ${perApp ? "the app's `corsOrigins`" : '`CORS_ORIGINS`'} only.`,
      responses: {
        '204': ref('responses', 'SessionPreflight'),
        '403': ref('responses', 'ForbiddenOrigin'),
        ...notFound,
        '500': ref('responses', 'ServerError'),
      },
    },
  };
}

export function sessionPaths(defaultApp: boolean): Record<string, Json> {
  const paths: Record<string, Json> = {};
  for (const endpoint of SESSION_ENDPOINTS) {
    if (defaultApp) paths[endpoint.path] = sessionPathItem(endpoint, false);
    paths[`${APPS_PATH}/{app}${endpoint.path}`] = sessionPathItem(endpoint, true);
  }
  return paths;
}
