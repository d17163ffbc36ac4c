/**
 * The HTTP contract of the service in one place: its paths and their aliases, what each endpoint is
 * for, the limits on bodies and fields, the CORS answer and the request id. The app (app.ts), the
 * parameter readers (endpoints/params.ts), the root page (endpoints/service.ts) and the OpenAPI
 * document (openapi/) all read it, so nothing is declared twice and the document cannot drift from
 * what the service does.
 */

/** Token requests are a few hundred bytes; 8 KiB leaves room for long redirect URIs and extras. */
export const MAX_BODY_BYTES = 8 * 1024;

export const FIELD_LIMITS = {
  /** Codes and refresh tokens are opaque, but always short runs of visible ASCII. */
  token: 2048,
  /** Refresh tokens of the Ruby service, Base64 with line breaks (docs/migrating-from-the-ruby-service.md). */
  legacyToken: 4096,
  redirectUri: 2048,
  /** Every Spotify scope, space-separated, is under 500 characters. */
  scope: 1024,
  clientId: 255,
} as const;

/** What a client may send as `X-Request-Id` and see again in the answer and the logs. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The answer to a preflight for an allowed origin; the same on every token endpoint. */
export const CORS = {
  allowMethods: ['GET', 'POST', 'OPTIONS'],
  // DPoP: the proof of RFC 9449 (endpoints/dpop.ts), sent by browser clients too.
  allowHeaders: ['Content-Type', 'X-Request-Id', 'DPoP'],
  exposeHeaders: ['Retry-After', 'X-Request-Id', 'RateLimit', 'RateLimit-Policy', 'DPoP-Nonce'],
  maxAgeSeconds: 600,
} as const;

export type Grant = 'swap' | 'refresh' | 'revoke';

export interface TokenEndpoint {
  path: '/swap' | '/api/token' | '/refresh' | '/api/refresh_token' | '/revoke';
  grant: Grant;
  /** The OpenAPI operationId at the root; `app` + its capitalized form under `/apps/{app}`. */
  operationId: string;
  /** For an alias, the endpoint it stands for. */
  aliasOf?: '/swap' | '/refresh';
}

/** The token endpoints; the aliases are the paths of the Ruby `spotify-token-swap-service`. */
export const TOKEN_ENDPOINTS: readonly TokenEndpoint[] = [
  { path: '/swap', grant: 'swap', operationId: 'swap' },
  { path: '/api/token', grant: 'swap', operationId: 'apiToken', aliasOf: '/swap' },
  { path: '/refresh', grant: 'refresh', operationId: 'refresh' },
  { path: '/api/refresh_token', grant: 'refresh', operationId: 'apiRefreshToken', aliasOf: '/refresh' },
  { path: '/revoke', grant: 'revoke', operationId: 'revoke' },
];

export interface GrantDescription {
  summary: string;
  description: string;
  /** What a 200 carries. */
  ok: string;
  /** The fields, as the root page lists them: `name` or `name?` for an optional one. */
  fields: readonly string[];
}

export const GRANTS: Readonly<Record<Grant, GrantDescription>> = {
  swap: {
    summary: 'Exchange an authorization code for tokens',
    description:
      'Sends the code to Spotify with the client secret. Never retried once sent: codes are single use.',
    ok: 'The tokens, with a `refresh_token` (sealed when the app has sealing secrets).',
    fields: ['code', 'redirect_uri?', 'code_verifier?'],
  },
  refresh: {
    summary: 'Get a new access token with a refresh token',
    description:
      'Opens a sealed refresh token and sends it to Spotify. Identical concurrent refreshes share one call.',
    ok: 'A new access token; `refresh_token` only when there is a new one to keep, else keep the one you have.',
    fields: ['refresh_token'],
  },
  revoke: {
    summary: 'Revoke a login (RFC 7009)',
    description:
      'Revokes the login of a sealed refresh token: every later refresh with any token of that login is refused without calling Spotify. 200 for any well-formed request, also for an unknown or already revoked token.',
    ok: 'An empty JSON object.',
    fields: ['token', 'token_type_hint?'],
  },
};

/** The custom header every session request must carry (session/guard.ts), as Duende BFF's. */
export const SESSION_CSRF_HEADER = 'X-CSRF';

export interface SessionEndpoint {
  path: '/session/swap' | '/session/token' | '/session/logout';
  /** Whose rate budget it spends, and what its span is labelled. */
  grant: Grant;
  /** The OpenAPI operationId at the root; `app` + its capitalized form under `/apps/{app}`. */
  operationId: string;
  summary: string;
  description: string;
}

/** The token-mediating backend for browser apps (session/handlers.ts, docs/sessions.md). */
export const SESSION_ENDPOINTS: readonly SessionEndpoint[] = [
  {
    path: '/session/swap',
    grant: 'swap',
    operationId: 'sessionSwap',
    summary: 'Exchange an authorization code, keeping the refresh token in a cookie',
    description:
      'As /swap, but the sealed refresh token goes into the HttpOnly cookie `__Host-token-swap` (with the access token) and never into the answer.',
  },
  {
    path: '/session/token',
    grant: 'refresh',
    operationId: 'sessionToken',
    summary: "A valid access token for the cookie's session",
    description:
      'The cached access token while it has more than a minute left and the login is neither revoked nor ended, else a refresh as /refresh does (coalescing, rotation, revocation, lifetime); the cookie is updated. 401 `login_required` without a session.',
  },
  {
    path: '/session/logout',
    grant: 'revoke',
    operationId: 'sessionLogout',
    summary: "Revoke the cookie's login and clear the cookie",
    description:
      "As /revoke for the cookie's refresh token; the cookie is cleared whatever the answer (501 without a login store: the login was not revoked).",
  },
];

/** The Web API proxy (proxy/routes.ts, docs/sessions.md): `{app base}/spotify/v1/...` is the Web API's `/v1/...`. */
export const API_PROXY = {
  path: '/spotify',
  /** Its rate budget's name: a budget of its own, as large as the refresh budget (token-routes.ts). */
  budget: 'proxy',
  /** Web API request bodies are small JSON (a list of up to 100 URIs, a playlist's details). */
  maxBodyBytes: 64 * 1024,
  summary: 'Call the Spotify Web API with the session cookie (backend-for-frontend)',
  description:
    "Forwards a request on the app's `API_PROXY_PATHS` allowlist to the Spotify Web API with the session's access token (refreshed first when it has a minute or less left: the cookie is updated). Only `Accept`, `Content-Type` and `Accept-Language` and the body go upstream, never the cookie or the page's `Authorization`; Spotify's status, `Content-Type`, `Retry-After` and body come back. The query string passes through.",
} as const;

/** The standard OAuth 2.0 endpoints (oauth-routes.ts): per app as the others, the metadata path-inserted (RFC 8414 §3.1). */
export const OAUTH = {
  token: '/token',
  metadata: '/.well-known/oauth-authorization-server',
} as const;

export const OAUTH_DESCRIPTIONS = {
  token:
    'OAuth 2.0 token endpoint for public clients (RFC 6749): grant_type authorization_code or refresh_token, with client_id',
  metadata: 'OAuth 2.0 authorization server metadata (RFC 8414), for discovery by OAuth libraries',
} as const;

/** Where the apps of the configuration file live: `/apps/{name}/swap`, ... */
export const APPS_PATH = '/apps';

export const OPENAPI_PATH = '/openapi.json';

/** The read-only endpoints (GET, and HEAD as GET without a body) and what each is for. */
export const SERVICE_ENDPOINTS = {
  '/': 'What the service is, its endpoints and apps',
  '/healthz': 'Liveness: the process runs',
  '/readyz': 'Readiness: whether a load balancer should send traffic here',
  '/metrics': 'Prometheus metrics',
  [OPENAPI_PATH]: 'This API as an OpenAPI 3.1 document',
} as const;

export type ServicePath = keyof typeof SERVICE_ENDPOINTS;

/** The methods each kind of endpoint answers; anything else is a 405 with this `Allow`. */
export const ALLOW = {
  readOnly: 'GET, HEAD',
  token: 'POST',
  tokenWithCors: 'POST, OPTIONS',
} as const;

/** The one-line description of a token endpoint on the root page. */
export function describeTokenEndpoint(endpoint: TokenEndpoint): string {
  if (endpoint.aliasOf !== undefined) return `Alias of POST ${endpoint.aliasOf}`;
  const grant = GRANTS[endpoint.grant];
  return `${grant.summary} (form or JSON: ${grant.fields.join(', ')})`;
}
