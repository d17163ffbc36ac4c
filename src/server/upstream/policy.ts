/**
 * What the service does about each outcome of a call to Spotify Accounts, as small named rules: which
 * are retried, which say that Spotify is failing (for the circuit breaker), and what the client is told.
 * The caller (caller.ts) is a short loop around them.
 */
import type { TokenResponse } from '../../shared/token-response.js';
import { QUOTA_EXCEEDED } from '../../shared/web-api-error.js';
import { OAuthError } from '../errors.js';
import type { TokenGrant, UpstreamResult } from './token-request.js';

/** Statuses after which a refresh is tried once more: a gateway or overload blip, not a verdict. */
const RETRYABLE_REFRESH_STATUSES = new Set([502, 503, 504]);

/**
 * Retries follow what is safe for each grant (docs/spotify-accounts.md §1):
 * - a code exchange only when the connection failed before the request was sent: a code is single
 *   use, so a second try after a lost answer would only get `invalid_grant`;
 * - a refresh at most once, on a network error or a 502/503/504; never on a 4xx, a 500 or a timeout
 *   (a slow Spotify is not helped by twice the load).
 */
export function shouldRetry(
  grant: TokenGrant['grant_type'],
  result: UpstreamResult,
  attempt: number,
): boolean {
  if (attempt > 1) return false;
  if (grant === 'authorization_code') {
    return result.kind === 'network_error' && !result.requestSent;
  }
  return (
    result.kind === 'network_error' ||
    (result.kind === 'server_error' && RETRYABLE_REFRESH_STATUSES.has(result.status))
  );
}

/**
 * Whether an outcome says that Spotify is unwell, for the circuit breaker: timeouts, network errors, 5xx
 * and answers that make no sense. Never a 4xx, whatever its body: that is about the request, and
 * counting it would let one client's bad requests open the breaker for every user.
 */
export function isUpstreamFailure(result: UpstreamResult): boolean {
  switch (result.kind) {
    case 'timeout':
    case 'network_error':
    case 'server_error':
      return true;
    case 'invalid_response':
      return result.status < 400 || result.status >= 500;
    default:
      return false;
  }
}

/**
 * A 429's sentence. Status and code stay those of any rate limit, so clients behave as they do; the
 * reason Spotify gave is in it as `(REASON)`, and a spent quota is said as what it is: it lasts until
 * the app's quota is raised, not a minute (docs/spotify-accounts.md §6, "Quotas and Development Mode").
 */
function rateLimitDescription(reason: string | undefined, retryAfter: number): string {
  const retry = `retry after ${retryAfter} seconds`;
  if (reason === QUOTA_EXCEEDED) return `Spotify's quota for this app is spent (${QUOTA_EXCEEDED}); ${retry}`;
  return reason === undefined
    ? `Spotify rate limit reached; ${retry}`
    : `Spotify rate limit reached (${reason}); ${retry}`;
}

/** The tokens, or the error the client gets for an outcome. */
export function answerFor(result: UpstreamResult, timeoutMs: number): TokenResponse | OAuthError {
  switch (result.kind) {
    case 'ok':
      return result.tokens;
    case 'oauth_error':
      // Spotify's own error is the client's business: pass it through with its status.
      return OAuthError.passThrough(result.status, result.error, result.description);
    case 'rate_limited':
      return new OAuthError(429, 'rate_limited', rateLimitDescription(result.reason, result.retryAfter), {
        'Retry-After': String(result.retryAfter),
      });
    case 'server_error':
      return new OAuthError(502, 'upstream_error', `Spotify Accounts answered HTTP ${result.status}`);
    case 'invalid_response':
      return new OAuthError(502, 'upstream_error', `Spotify Accounts answered ${result.reason}`);
    case 'timeout':
      return new OAuthError(
        504,
        'upstream_timeout',
        `Spotify Accounts did not answer within ${timeoutMs} ms`,
      );
    case 'network_error':
      return new OAuthError(502, 'upstream_error', 'Could not reach Spotify Accounts');
  }
}
