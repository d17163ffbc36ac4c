/**
 * RFC 8414 authorization server metadata: what a standard OAuth library discovers before it signs a
 * user in. Authorization happens at Spotify (or the sandbox), the code is exchanged here: the
 * `authorization_endpoint` is the app's Accounts `/authorize`, the token and revocation endpoints are
 * this service's.
 */
import { SPOTIFY_SCOPES } from '../../shared/scopes.js';
import { OAUTH } from '../contract.js';
import { DPOP_ALGORITHMS } from './dpop.js';
import { TOKEN_GRANT_TYPES } from './token-endpoint.js';

export const METADATA_PATH = OAUTH.metadata;

/** Where an issuer's metadata lives: RFC 8414 §3.1 inserts the well-known path before the issuer's path. */
export function metadataPath(prefix: string): string {
  return `${METADATA_PATH}${prefix}`;
}

export interface MetadataOptions {
  /** PUBLIC_URL, or the request's own origin when it is unset. */
  base: string;
  /** The app's path prefix: `''` at the root, `/apps/{name}`. */
  prefix: string;
  /** The app's Spotify Accounts base URL. */
  accountsUrl: string;
  /** Whether the app binds refresh tokens to DPoP keys (TokenHandlers.bindsDpop). */
  dpop: boolean;
  /** The app's Spotify client id: public (every authorize URL carries it), and what a client needs. */
  clientId: string;
}

export function metadataDocument(options: MetadataOptions) {
  const issuer = `${options.base}${options.prefix}`;
  return {
    // §2: the issuer is the base of every endpoint's URL, and §3.3 makes the client check it.
    issuer,
    authorization_endpoint: `${options.accountsUrl}/authorize`,
    token_endpoint: `${issuer}/token`,
    revocation_endpoint: `${issuer}/revoke`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: Object.keys(TOKEN_GRANT_TYPES),
    // Spotify takes S256 only (docs/spotify-accounts.md §1).
    code_challenge_methods_supported: ['S256'],
    // The client secret stays here: apps are public clients (RFC 6749 §2.1).
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    scopes_supported: [...SPOTIFY_SCOPES],
    // RFC 9449 §5.1: announced only where a proof can be checked and a binding kept.
    ...(options.dpop ? { dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS] } : {}),
    // An extension (§2 allows them): RFC 8414 has no member for the client id, which a public client
    // of this service needs to authorize at Spotify; with it, the metadata URL alone is enough.
    spotify_client_id: options.clientId,
  };
}

/** The metadata's base URL: PUBLIC_URL when set, else the origin the request was sent to. */
export function metadataBase(publicUrl: string | undefined, requestUrl: string): string {
  return publicUrl ?? new URL(requestUrl).origin;
}
