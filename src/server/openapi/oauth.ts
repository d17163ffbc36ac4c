/**
 * The standard OAuth 2.0 endpoints in the OpenAPI document: `POST /token` (RFC 6749 §3.2) and the
 * RFC 8414 metadata, at the root and per app (oauth-routes.ts).
 */

import { CODE_VERIFIER_PATTERN } from '../../shared/encoding.js';
import { SPOTIFY_SCOPES } from '../../shared/scopes.js';
import { APPS_PATH, FIELD_LIMITS, OAUTH, OAUTH_DESCRIPTIONS } from '../contract.js';
import { DPOP_ALGORITHMS } from '../endpoints/dpop.js';
import {
  errorResponse,
  FORM_TYPE,
  JSON_TYPE,
  type Json,
  jsonHeaders,
  jsonOk,
  ref,
  tokenHeaders,
} from './shared.js';

const stringList = (description: string, values?: readonly string[]): Json => ({
  type: 'array',
  description,
  items: values === undefined ? { type: 'string' } : { type: 'string', enum: [...values] },
});

export const oauthSchemas: Record<string, Json> = {
  TokenParameters: {
    type: 'object',
    description:
      'RFC 6749 §4.1.3 and §6 for a public client. Each field at most once and, in JSON, a string; an empty value counts as missing; unknown fields are ignored.',
    required: ['grant_type'],
    properties: {
      grant_type: { type: 'string', enum: ['authorization_code', 'refresh_token'] },
      client_id: {
        type: 'string',
        description:
          "The app's client id; or HTTP Basic with it and an empty password. At the root it selects the app.",
        maxLength: FIELD_LIMITS.clientId,
      },
      client_secret: {
        type: 'string',
        description: 'Empty or absent: the secret stays on the service. A non-empty one is `invalid_client`.',
        maxLength: 0,
      },
      code: { type: 'string', description: 'authorization_code: the code.', maxLength: FIELD_LIMITS.token },
      redirect_uri: {
        type: 'string',
        description:
          "authorization_code: required, the URI sent to `/authorize`; one off the app's allowlist is `invalid_grant`.",
        maxLength: FIELD_LIMITS.redirectUri,
      },
      code_verifier: {
        type: 'string',
        description: 'PKCE verifier, forwarded.',
        pattern: CODE_VERIFIER_PATTERN.source,
      },
      refresh_token: {
        type: 'string',
        description: 'refresh_token: the refresh token the service handed out.',
        maxLength: FIELD_LIMITS.legacyToken,
      },
      scope: {
        type: 'string',
        description:
          'refresh_token: optional; Spotify cannot narrow a grant, so anything but the granted scope is `invalid_scope`.',
        maxLength: FIELD_LIMITS.scope,
      },
    },
    additionalProperties: true,
  },
  AuthorizationServerMetadata: {
    type: 'object',
    description: 'RFC 8414 §2. Authorization happens at Spotify; the code is exchanged here.',
    required: [
      'issuer',
      'authorization_endpoint',
      'token_endpoint',
      'revocation_endpoint',
      'response_types_supported',
      'grant_types_supported',
      'code_challenge_methods_supported',
      'token_endpoint_auth_methods_supported',
      'revocation_endpoint_auth_methods_supported',
      'scopes_supported',
      'spotify_client_id',
    ],
    properties: {
      issuer: {
        type: 'string',
        description: "`PUBLIC_URL` (or the request's origin), plus `/apps/{app}` for a named app.",
      },
      authorization_endpoint: {
        type: 'string',
        description: "The app's Spotify Accounts `/authorize` (the sandbox's in sandbox mode).",
      },
      token_endpoint: { type: 'string' },
      revocation_endpoint: { type: 'string' },
      response_types_supported: stringList('Only the code flow.', ['code']),
      response_modes_supported: stringList('Spotify redirects with a query.', ['query']),
      grant_types_supported: stringList('The grants of POST /token.', [
        'authorization_code',
        'refresh_token',
      ]),
      code_challenge_methods_supported: stringList('Spotify takes S256.', ['S256']),
      token_endpoint_auth_methods_supported: stringList('Public clients.', ['none']),
      revocation_endpoint_auth_methods_supported: stringList('Public clients.', ['none']),
      scopes_supported: stringList("Spotify's scopes for third-party apps.", [...SPOTIFY_SCOPES]),
      spotify_client_id: {
        type: 'string',
        description:
          "An extension: the app's Spotify client id, which RFC 8414 has no member for. Public (every authorize URL carries it); with it a client needs only the metadata URL (`token-swap login --swap-url` alone).",
      },
      dpop_signing_alg_values_supported: stringList(
        'RFC 9449 §5.1: the algorithms of the DPoP proofs taken. Absent where refresh tokens cannot be bound: an unsealed app, or a runtime without a login store (no replay cache).',
        [...DPOP_ALGORITHMS],
      ),
    },
    additionalProperties: false,
  },
};

export const oauthResponses: Record<string, Json> = {
  InvalidClient: errorResponse(
    '`invalid_client`: an unknown `client_id`, or a client secret (the app must not hold one). With HTTP Basic, a `WWW-Authenticate: Basic` comes along (RFC 6749 §5.2).',
    { error: 'invalid_client', error_description: 'Unknown client_id' },
    {
      code: 'invalid_client',
      headers: {
        ...tokenHeaders,
        'WWW-Authenticate': {
          description: 'With HTTP Basic only: the scheme to use.',
          schema: { type: 'string', pattern: '^Basic' },
        },
      },
    },
  ),
  TokenBadRequest: errorResponse(
    '`invalid_request` (a field missing, malformed or repeated, `grant_type` or `client_id` missing), `unsupported_grant_type`, `invalid_scope` (a scope other than the granted one), `invalid_dpop_proof` (a `DPoP` header that is no valid proof for this request, or none where the app requires DPoP), `use_dpop_nonce` (with `DPOP_NONCE=1`: a proof without a recent nonce the service gave; the `DPoP-Nonce` header of the answer has one), or `invalid_grant` (Spotify refused, a refresh token does not open or is bound to a DPoP key this request proves no possession of, a `redirect_uri` off the allowlist). Spotify is not called but for the first case of the last.',
    {
      error: 'unsupported_grant_type',
      error_description: 'grant_type must be authorization_code or refresh_token',
    },
  ),
};

function tokenOperation(perApp: boolean): Json {
  const id = perApp ? 'appToken' : 'token';
  const notFound: Record<string, Json> = perApp
    ? { '404': { ...ref('responses', 'NotFound'), description: 'No such app.' } }
    : {};
  return {
    ...(perApp ? { parameters: [ref('parameters', 'App')] } : {}),
    post: {
      operationId: id,
      tags: ['oauth'],
      summary: 'OAuth 2.0 token endpoint (RFC 6749) for public clients',
      parameters: [ref('parameters', 'DPoP')],
      description: `${OAUTH_DESCRIPTIONS.token}. ${perApp ? "This app's client id only." : 'The client id selects the app among all configured ones.'} Behaves as /swap (authorization_code) and /refresh (refresh_token), with their rate budgets.`,
      requestBody: {
        required: true,
        content: {
          [FORM_TYPE]: { schema: ref('schemas', 'TokenParameters') },
          [JSON_TYPE]: { schema: ref('schemas', 'TokenParameters') },
        },
      },
      responses: {
        '200': ref('responses', 'SwapTokens'),
        '400': ref('responses', 'TokenBadRequest'),
        '401': ref('responses', 'InvalidClient'),
        '403': {
          ...ref('responses', 'ForbiddenOrigin'),
          description:
            "`invalid_request`: at the root, an `Origin` another app lists but the client id's app does not.",
        },
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
      operationId: `${id}Preflight`,
      tags: ['oauth'],
      summary: 'CORS preflight',
      description: 'Answered for the origins of the apps the path serves.',
      responses: {
        '204': ref('responses', 'Preflight'),
        '403': ref('responses', 'ForbiddenOrigin'),
        '405': { ...ref('responses', 'MethodNotAllowed'), description: 'No origin is listed.' },
        ...notFound,
        '500': ref('responses', 'ServerError'),
      },
    },
  };
}

function metadataOperation(perApp: boolean): Json {
  return {
    ...(perApp ? { parameters: [ref('parameters', 'App')] } : {}),
    get: {
      operationId: perApp ? 'appMetadata' : 'metadata',
      tags: ['oauth'],
      summary: OAUTH_DESCRIPTIONS.metadata,
      description: perApp
        ? "The app's metadata, at the path-inserted form of RFC 8414 §3.1."
        : "The environment's app's metadata; 404 when only the apps of the configuration file are served.",
      responses: {
        '200': jsonOk('The metadata.', ref('schemas', 'AuthorizationServerMetadata'), jsonHeaders),
        '404': ref('responses', 'NotFound'),
        '405': ref('responses', 'ReadOnlyMethodNotAllowed'),
        '500': ref('responses', 'ServerError'),
      },
    },
  };
}

/** The paths: the root ones, and the per-app ones. */
export function oauthPaths(): Record<string, Json> {
  return {
    [OAUTH.token]: tokenOperation(false),
    [`${APPS_PATH}/{app}${OAUTH.token}`]: tokenOperation(true),
    [OAUTH.metadata]: metadataOperation(false),
    [`${OAUTH.metadata}${APPS_PATH}/{app}`]: metadataOperation(true),
  };
}
