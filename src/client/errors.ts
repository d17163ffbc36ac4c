/**
 * The client kit's errors: a few named classes, each with a stable string `code` (a literal union,
 * so `switch (error.code)` narrows), as panva's libraries do.
 */

/** An answer from the swap service that is not a token response. */
export class SwapServiceError extends Error {
  override readonly name = 'SwapServiceError';
  /** The service's `error`, e.g. `invalid_grant`, `upstream_error`, `rate_limited`. */
  readonly error: string;
  readonly errorDescription: string | undefined;
  /** HTTP status of the answer. */
  readonly status: number;
  /** Whole seconds from `Retry-After`, when the service sent one. */
  readonly retryAfter: number | undefined;
  declare readonly response: Response;

  constructor(
    error: string,
    errorDescription: string | undefined,
    status: number,
    retryAfter: number | undefined,
    response: Response,
  ) {
    super(errorDescription ? `${error}: ${errorDescription}` : error);
    this.error = error;
    this.errorDescription = errorDescription;
    this.status = status;
    this.retryAfter = retryAfter;
    // Non-enumerable, so logging the error never spills the raw response.
    Object.defineProperty(this, 'response', { value: response, enumerable: false });
  }
}

/** The swap service could not be reached, or did not answer in time. */
export class SwapServiceUnreachableError extends Error {
  override readonly name = 'SwapServiceUnreachableError';
  readonly code: 'unreachable' | 'timeout' | 'aborted';
  readonly url: string;

  constructor(code: 'unreachable' | 'timeout' | 'aborted', url: string, cause?: unknown) {
    super(
      code === 'timeout'
        ? `The swap service at ${url} did not answer in time`
        : code === 'aborted'
          ? 'The request to the swap service was aborted'
          : `Could not reach the swap service at ${url}`,
      { cause },
    );
    this.code = code;
    this.url = url;
  }
}

export type AuthorizationErrorCode =
  | 'access_denied'
  | 'state_mismatch'
  | 'timeout'
  | 'aborted'
  | 'authorization_error'
  | 'invalid_callback';

/** The authorization step (the browser round trip) did not produce a code. */
export class AuthorizationError extends Error {
  override readonly name = 'AuthorizationError';
  readonly code: AuthorizationErrorCode;
  /** For `authorization_error`: the `error` parameter Spotify put on the redirect. */
  readonly error: string | undefined;

  constructor(code: AuthorizationErrorCode, message: string, error?: string) {
    super(message);
    this.code = code;
    this.error = error;
  }
}

/**
 * Why the user must log in again: no login stored; the refresh token refused (revoked, or unknown to
 * the service); the login past its end (Spotify's six months, docs/spotify-accounts.md §6); a login
 * without a refresh token.
 */
export type LoginRequiredReason = 'not_logged_in' | 'refresh_token_rejected' | 'expired' | 'no_refresh_token';

function loginRequiredMessage(code: LoginRequiredReason, detail: string | undefined): string {
  switch (code) {
    case 'not_logged_in':
      return 'Not logged in';
    case 'no_refresh_token':
      return 'The stored login has no refresh token';
    case 'expired':
      // The service's own sentence says when ("The login expired on 2026-07-01: ...").
      return detail ?? 'The login expired: the user must sign in again';
    case 'refresh_token_rejected':
      return `The refresh token was rejected${detail ? ` (${detail})` : ''}; it expired or was revoked`;
  }
}

/** The stored login cannot produce an access token any more: the user must log in again. */
export class LoginRequiredError extends Error {
  override readonly name = 'LoginRequiredError';
  readonly code: LoginRequiredReason;

  constructor(code: LoginRequiredReason, detail?: string) {
    super(loginRequiredMessage(code, detail));
    this.code = code;
  }
}
