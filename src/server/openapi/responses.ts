/** The reusable responses and headers of the OpenAPI document. */
import { ALLOW, API_PROXY, CORS, GRANTS, MAX_BODY_BYTES, REQUEST_ID_PATTERN } from '../contract.js';
import { errorResponse, type Json, jsonHeaders, jsonOk, ref, tokenHeaders } from './shared.js';

/** The rate-limit policies are named after the grants, and the Web API proxy's. */
const POLICIES = [...Object.keys(GRANTS), API_PROXY.budget].join('|');

export const responses: Record<string, Json> = {
  SwapTokens: jsonOk(GRANTS.swap.ok, ref('schemas', 'TokenResponse'), tokenHeaders),
  RefreshTokens: jsonOk(GRANTS.refresh.ok, ref('schemas', 'TokenResponse'), tokenHeaders),
  Revoked: jsonOk(
    `${GRANTS.revoke.ok} The login is revoked if the token opened, and nothing changed if it did not: the answer does not say which (RFC 7009 §2.2).`,
    { type: 'object', additionalProperties: false, maxProperties: 0 },
    jsonHeaders,
  ),
  RevocationUnavailable: errorResponse(
    '`revocation_unavailable`: this runtime keeps no login store (Lambda without `REDIS_URL`, Workers without the `LOGINS` Durable Object).',
    {
      error: 'revocation_unavailable',
      error_description:
        'This deployment keeps no revocations (no login store on this runtime): see docs/sealed-tokens.md',
    },
  ),
  Preflight: {
    description: 'A listed origin: the CORS headers, no body.',
    headers: {
      'Access-Control-Allow-Origin': {
        description: 'The origin of the request; absent when the request has no `Origin`.',
        schema: { type: 'string' },
      },
      'Access-Control-Allow-Methods': {
        required: true,
        schema: { type: 'string', const: CORS.allowMethods.join(',') },
      },
      'Access-Control-Allow-Headers': {
        required: true,
        schema: { type: 'string', const: CORS.allowHeaders.join(',') },
      },
      'Access-Control-Max-Age': { required: true, schema: { type: 'integer', const: CORS.maxAgeSeconds } },
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
    '`invalid_request`: a field is missing, malformed or repeated, or the body is not valid JSON; Spotify is not called. `invalid_dpop_proof`: the `DPoP` header is no valid proof for this request, or a code exchange of an app with `DPOP=required` has none; Spotify is not called. `use_dpop_nonce`: with `DPOP_NONCE=1`, the proof carries no recent nonce the service gave; the `DPoP-Nonce` header of the answer has one to sign again with. `invalid_grant`: Spotify refused the code or refresh token (passed through), a sealed refresh token does not open, or it is bound to a DPoP key and the request has no proof by that key.',
    { error: 'invalid_request', error_description: 'The code parameter is required' },
  ),
  SpotifyError: errorResponse('Any other JSON error from Spotify, passed through with its status and body.', {
    error: 'invalid_client',
    error_description: 'Invalid client',
  }),
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
  PayloadTooLarge: errorResponse(
    `\`invalid_request\`: the body is over ${MAX_BODY_BYTES / 1024} KiB; the connection is closed.`,
    { error: 'invalid_request', error_description: `The request body exceeds ${MAX_BODY_BYTES} bytes` },
  ),
  UnsupportedMediaType: errorResponse('`invalid_request`: the body is neither form nor JSON.', {
    error: 'invalid_request',
    error_description: 'Send the parameters as application/x-www-form-urlencoded or application/json',
  }),
  TooManyRequests: errorResponse(
    "`rate_limited`: this address spent its budget for the endpoint (`RATE_LIMIT_*`), or Spotify rate-limited the app. A reason Spotify gave is in the description in parentheses, e.g. `Spotify's quota for this app is spent (QUOTA_EXCEEDED); retry after 30 seconds`.",
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
    "`temporarily_unavailable`: Spotify has been failing and the circuit breaker is open, too many calls to Spotify are in flight, or the login store is unreachable where it must be asked (a rotating app, a revocation, a DPoP proof's replay check); Spotify is not called.",
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
};

export const headers: Record<string, Json> = {
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
    description: "The request's `X-Request-Id` when it matches the pattern, else a fresh UUID.",
    required: true,
    schema: { type: 'string', pattern: REQUEST_ID_PATTERN.source },
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
    schema: { type: 'string', pattern: `^(${POLICIES});q=\\d+;w=\\d+$` },
  },
  RateLimit: {
    description:
      "What is left of the budget: `swap;r=29;t=60` (requests left, seconds until the window resets). Sent while the rate limit of the endpoint is on, except on Cloudflare Workers with Cloudflare's rate limiting bindings, which report no count.",
    schema: { type: 'string', pattern: `^(${POLICIES});r=\\d+;t=\\d+$` },
  },
  Allow: {
    required: true,
    description: 'POST, and OPTIONS where CORS origins are configured for the app',
    schema: { type: 'string', enum: [ALLOW.token, ALLOW.tokenWithCors] },
  },
  AllowReadOnly: { required: true, schema: { type: 'string', const: ALLOW.readOnly } },
  WwwAuthenticate: { required: true, schema: { type: 'string', const: 'Bearer' } },
};
