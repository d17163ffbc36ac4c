/**
 * The one error type the service speaks on the wire. Every error answer, from a missing field to an
 * unknown path, a refused origin or an open circuit breaker, is an `OAuthError` rendered as JSON
 * `{error, error_description}`; anything else is logged and turned into a generic `server_error`, so no
 * stack trace or library text ever leaves the process (node-oidc-provider's `expose` idea).
 */
import { type Answer, jsonAnswer, respond } from './answer.js';

/** The codes this service answers with; Spotify's own pass through as they came (`passThrough`). */
export type ErrorCode =
  | 'invalid_request'
  | 'invalid_grant'
  | 'invalid_client'
  | 'invalid_scope'
  | 'unsupported_grant_type'
  | 'invalid_token'
  | 'not_found'
  | 'method_not_allowed'
  | 'server_error'
  | 'upstream_error'
  | 'upstream_timeout'
  | 'rate_limited'
  | 'temporarily_unavailable'
  | 'revocation_unavailable'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'login_required'
  | 'session_unavailable'
  | 'path_not_allowed';

export interface OAuthErrorBody {
  error: string;
  error_description?: string;
}

export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  /** Wire `error`: one of ErrorCode, or Spotify's own when passed through. */
  readonly error: ErrorCode | (string & {});
  readonly description: string | undefined;
  readonly status: number;
  /** Extra response headers, e.g. `Retry-After`. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, error: ErrorCode, description?: string, headers: Record<string, string> = {}) {
    super(description ? `${error}: ${description}` : error);
    this.status = status;
    this.error = error;
    this.description = description;
    this.headers = headers;
  }

  /** Spotify's own OAuth error, as it answered it (docs/spotify-accounts.md §2). */
  static passThrough(status: number, error: string, description: string | undefined): OAuthError {
    return new OAuthError(status, error as ErrorCode, description);
  }

  toJSON(): OAuthErrorBody {
    return this.description === undefined
      ? { error: this.error }
      : { error: this.error, error_description: this.description };
  }

  toAnswer(): Answer {
    return jsonAnswer(this.status, this.toJSON(), { ...this.headers });
  }
}

export function errorResponse(error: OAuthError): Response {
  return respond(error.toAnswer());
}

export const invalidRequest = (description: string, headers?: Record<string, string>) =>
  new OAuthError(400, 'invalid_request', description, headers);

/** The one message for every sealed-token failure, so a probe learns nothing about why it failed. */
export const invalidRefreshToken = () => new OAuthError(400, 'invalid_grant', 'Invalid refresh token');

/** The path is never echoed back: nothing the client sent is reflected in an answer. */
export const notFound = (description = 'No such endpoint; GET / lists them') =>
  new OAuthError(404, 'not_found', description);

export const methodNotAllowed = (allow: string) =>
  new OAuthError(405, 'method_not_allowed', `Use ${allow.split(',', 1)[0]} for this endpoint`, {
    Allow: allow,
  });

/** Answers with Retry-After: an open circuit breaker, a full queue. Spotify is not called. */
export const temporarilyUnavailable = (description: string, retryAfterSeconds: number) =>
  new OAuthError(503, 'temporarily_unavailable', description, { 'Retry-After': String(retryAfterSeconds) });

/** Anything that is not an OAuthError becomes this, and only the log sees the real cause. */
export const serverError = () =>
  new OAuthError(500, 'server_error', 'The token swap service hit an unexpected error');
