/** The schemas of the OpenAPI document: parameters, token and error bodies, the service's own answers. */
import { CODE_VERIFIER_PATTERN } from '../../shared/encoding.js';
import { FIELD_LIMITS } from '../contract.js';
import { type Json, ref } from './shared.js';

export const schemas: Record<string, Json> = {
  SwapParameters: {
    type: 'object',
    description:
      'Each field at most once (a repeated JSON key counts too) and, in JSON, a string; an empty value or a JSON null counts as missing; unknown fields are ignored.',
    required: ['code'],
    properties: {
      code: {
        type: 'string',
        description: 'The authorization code from the redirect.',
        minLength: 1,
        maxLength: FIELD_LIMITS.token,
        pattern: '^[!-~]+$',
      },
      redirect_uri: {
        type: 'string',
        description:
          'The redirect URI the app sent to `/authorize`. Sent to Spotify when it is on the allowlist, else the default one is.',
        maxLength: FIELD_LIMITS.redirectUri,
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
    description:
      'Each field at most once (a repeated JSON key counts too) and, in JSON, a string; an empty value or a JSON null counts as missing; unknown fields are ignored.',
    required: ['refresh_token'],
    properties: {
      refresh_token: {
        type: 'string',
        description: `The refresh token as the service handed it out: up to ${FIELD_LIMITS.token} visible ASCII characters (up to ${FIELD_LIMITS.legacyToken}, spaces and line breaks included, for tokens of the Ruby service with \`LEGACY_ENCRYPTION_SECRET\`).`,
        minLength: 1,
        maxLength: FIELD_LIMITS.legacyToken,
      },
    },
    additionalProperties: true,
  },
  RevokeParameters: {
    type: 'object',
    description:
      'RFC 7009 §2.1. Each field at most once (a repeated JSON key counts too) and, in JSON, a string; an empty value or a JSON null counts as missing; unknown fields are ignored.',
    required: ['token'],
    properties: {
      token: {
        type: 'string',
        description:
          'A refresh token the service handed out (of this app). Any other token is answered 200 too, and changes nothing.',
        minLength: 1,
        maxLength: FIELD_LIMITS.legacyToken,
      },
      token_type_hint: {
        type: 'string',
        description:
          '`refresh_token` or `access_token`; a hint only: the service issues refresh tokens alone and tries the token as one.',
        pattern: '^[A-Za-z0-9_.-]{1,64}$',
      },
      client_id: {
        type: 'string',
        description:
          "Optional (RFC 7009 §2.1). At the root, the client id of an app of the configuration file revokes that app's token (POST /token serves every app there); else it is ignored.",
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
          'The refresh token; from a refresh only when there is a new one to keep (Spotify rotated it, or the service re-sealed it under its current secret). Sealed (`sts2.` and base64url) when the app has sealing secrets.',
        minLength: 1,
      },
      refresh_token_expires_in: {
        type: 'integer',
        description:
          "Whole seconds until the login ends: the user's original authorization plus the refresh tokens' lifetime (Spotify's six months). Absent when the authorization time is unknown (a token sealed by an older version, or not sealed).",
        minimum: 0,
        examples: [15552000],
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
          required: ['swap', 'refresh', 'revoke', 'token', 'metadata', 'sealing'],
          properties: {
            swap: { type: 'string' },
            refresh: { type: 'string' },
            revoke: { type: 'string' },
            token: { type: 'string', description: 'Its standard OAuth 2.0 token endpoint.' },
            metadata: { type: 'string', description: 'Its RFC 8414 metadata.' },
            sealing: { type: 'string', enum: ['on', 'off'] },
            proxy: {
              type: 'string',
              description: 'Its Web API proxy (`/spotify/v1/...`), when it allows any call: what it allows.',
            },
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
      status: {
        type: 'string',
        enum: ['ready', 'degraded', 'not_ready'],
        description:
          '`ready`: every check is ok. `degraded`: a dependency all replicas share is failing; this replica still serves, and taking it out would not help. `not_ready`: this replica should get no traffic (it is shutting down).',
      },
      checks: {
        type: 'object',
        description:
          '`upstream`: the circuit breaker to Spotify Accounts (shared); `redis`: the shared store, with `REDIS_URL` (shared); `server`: this replica, where the runtime reports it (local).',
        required: ['upstream'],
        properties: { upstream: ref('schemas', 'Check') },
        additionalProperties: ref('schemas', 'Check'),
      },
    },
    additionalProperties: false,
  },
  Check: {
    type: 'object',
    required: ['ok', 'detail', 'shared'],
    properties: {
      ok: { type: 'boolean' },
      detail: { type: 'string', examples: ['circuit breaker closed'] },
      shared: {
        type: 'boolean',
        description: 'Shared by every replica: when it fails, the status is `degraded`, not `not_ready`.',
      },
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
};
