/**
 * `POST /token` (and `/apps/{name}/token`): the standard OAuth 2.0 token endpoint for public clients
 * (RFC 6749 §3.2, §4.1.3, §6), so that any OAuth library can use the service. The body is read once;
 * the client is named (client-auth.ts); its app is picked; then the grant type says which of the
 * swap service's own steps runs (tokens.ts, refresh.ts), with everything they do: sealing, lifetimes,
 * rotation, coalescing.
 */
import { findRedirectUri } from '../../shared/redirect-uri.js';
import type { AppConfig } from '../config/index.js';
import { invalidRequest, OAuthError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RequestSpan } from '../tracing.js';
import type { ProofInput } from './dpop.js';
import {
  optionalCodeVerifier,
  optionalRedirectUri,
  optionalScope,
  type RawParams,
  requiredToken,
  single,
} from './params.js';
import type { TokenHandlers } from './tokens.js';

/** The grant types of RFC 6749 this endpoint takes, and the swap service's step each one is. */
export const TOKEN_GRANT_TYPES = {
  authorization_code: 'swap',
  refresh_token: 'refresh',
} as const;

export type TokenGrantType = keyof typeof TOKEN_GRANT_TYPES;

/** §5.2: a missing grant type is a malformed request; one this server does not do is its own error. */
export function grantTypeOf(params: RawParams): TokenGrantType {
  const value = single(params, 'grant_type');
  if (value === undefined) throw invalidRequest('The grant_type parameter is required');
  if (!Object.hasOwn(TOKEN_GRANT_TYPES, value)) {
    throw new OAuthError(
      400,
      'unsupported_grant_type',
      'grant_type must be authorization_code or refresh_token',
    );
  }
  return value as TokenGrantType;
}

/** One app the endpoint may serve: its configuration and its handlers. */
export interface TokenEndpointApp {
  config: AppConfig;
  handlers: TokenHandlers;
}

/**
 * The app a client id names. At the root, any configured app's (several apps behind one endpoint);
 * under `/apps/{name}`, that app's only. Two apps of one client id cannot be told apart at the root:
 * the environment's app is the one the root paths serve, so it wins, as it does on `/swap`; without
 * it, the client is told to use its app's own endpoint.
 */
export function appForClient<App extends TokenEndpointApp>(
  candidates: readonly App[],
  clientId: string,
  defaultApp: string,
): App {
  const matching = candidates.filter((app) => app.config.clientId === clientId);
  const [only] = matching;
  if (only === undefined) throw new OAuthError(401, 'invalid_client', 'Unknown client_id');
  if (matching.length === 1) return only;
  const root = matching.find((app) => app.config.name === defaultApp);
  if (root) return root;
  throw new OAuthError(
    401,
    'invalid_client',
    `This client_id belongs to several apps; use the token endpoint of yours: ${matching
      .map((app) => `/apps/${app.config.name}/token`)
      .join(', ')}`,
  );
}

/**
 * RFC 6749 §4.1.3: `redirect_uri` is required when the authorization request had one, and Spotify's
 * always has (docs/spotify-accounts.md §3). Unlike `/swap`, which puts in the default for clients that
 * never send one (the iOS SDK), a URI off the allowlist is refused: a standard client sends the URI it
 * authorized with, and putting another in would only turn a clear answer into Spotify's puzzling one.
 */
function redirectUriOf(params: RawParams, app: AppConfig): string {
  const requested = optionalRedirectUri(params);
  if (requested === undefined) throw invalidRequest('The redirect_uri parameter is required');
  if (!findRedirectUri(app.redirectUris, requested)) {
    throw new OAuthError(400, 'invalid_grant', "redirect_uri is not one of this app's redirect URIs");
  }
  return requested;
}

/** Runs the grant on the app's handlers, with the parameters already read. */
export function runGrant(
  app: TokenEndpointApp,
  grantType: TokenGrantType,
  params: RawParams,
  proof: ProofInput,
  log: Logger,
  span: RequestSpan | undefined,
): Promise<Response> {
  const { grants } = app.handlers;
  if (grantType === 'authorization_code') {
    const code = requiredToken(params, 'code');
    const redirectUri = redirectUriOf(params, app.config);
    const codeVerifier = optionalCodeVerifier(params);
    return grants.authorizationCode({ code, redirectUri, codeVerifier, proof }, log, span);
  }
  const refreshToken = requiredToken(params, 'refresh_token', { legacy: grants.acceptsLegacyTokens });
  return grants.refreshToken({ refreshToken, scope: optionalScope(params), proof }, log, span);
}
