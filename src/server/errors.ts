/**
 * The one error type the service speaks on the wire. Everything that reaches a client is an
 * `OAuthError` rendered as JSON `{error, error_description}`; anything else is logged and turned into
 * a generic `server_error`, so no stack trace or library text ever leaves the process
 * (node-oidc-provider's `expose` idea).
 */

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_grant'
  | 'invalid_client'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'not_found'
  | 'method_not_allowed'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'server_error'
  | 'upstream_error'
  | 'upstream_timeout'
  | 'rate_limited'
  | 'temporarily_unavailable';

export interface OAuthErrorBody {
  error: string;
  error_description?: string;
}

export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  /** Wire `error`: usually one of OAuthErrorCode, or Spotify's own when passed through. */
  readonly error: string;
  readonly description: string | undefined;
  readonly status: number;
  /** Extra response headers, e.g. `Retry-After`. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    error: OAuthErrorCode | (string & {}),
    description?: string,
    headers: Record<string, string> = {},
  ) {
    super(description ? `${error}: ${description}` : error);
    this.status = status;
    this.error = error;
    this.description = description;
    this.headers = headers;
  }

  toJSON(): OAuthErrorBody {
    return this.description === undefined
      ? { error: this.error }
      : { error: this.error, error_description: this.description };
  }
}

export const invalidRequest = (description: string) => new OAuthError(400, 'invalid_request', description);

/** The one message for every sealed-token failure, so a probe learns nothing about why it failed. */
export const invalidRefreshToken = () => new OAuthError(400, 'invalid_grant', 'Invalid refresh token');

/** The headers every JSON answer carries; token responses must never be cached (RFC 6749 §5.1). */
export const JSON_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'application/json',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
};

/** Renders a JSON body with exactly `application/json` as media type (SpotifyAPI-NET needs that). */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

export function errorResponse(err: OAuthError): Response {
  return jsonResponse(err.status, err.toJSON(), { ...err.headers });
}

/** Anything that is not an OAuthError becomes this, and only the log sees the real cause. */
export const serverError = () =>
  new OAuthError(500, 'server_error', 'The token swap service hit an unexpected error');
