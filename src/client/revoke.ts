/**
 * Sign-out at the swap service: `POST /revoke` (RFC 7009) with the sealed refresh token, which ends
 * the whole login there (README, "POST /revoke"). Spotify offers apps no revocation of its own
 * (docs/spotify-accounts.md §6), so this is the only way to end a login before it expires. The
 * expected outcomes are a result, not an exception: the app decides what to tell the user.
 */
import { parseTokenResponse } from '../shared/token-response.js';
import { answerError, readAnswerText, refusal, refuseRedirect } from './answer.js';
import type { SwapServiceError, SwapServiceUnreachableError } from './errors.js';

/** What a revocation came to; anything else (a 400, a 429, a 5xx, a malformed answer) is a SwapServiceError. */
export type RevokeResult =
  /** The service ended the login: no token of it refreshes any more. */
  | { outcome: 'revoked' }
  /**
   * The service keeps no revocations (`501 revocation_unavailable`): the tokens still work until they
   * expire. `error` is its answer.
   */
  | { outcome: 'unsupported'; error: SwapServiceError }
  /** No answer: nothing listens, it timed out, or the call was aborted (`error.code`). */
  | { outcome: 'unreachable'; error: SwapServiceUnreachableError };

/** The service's `error` where the runtime keeps no revocations (src/server/endpoints/revoke.ts). */
export const REVOCATION_UNAVAILABLE = 'revocation_unavailable';

/**
 * Judges a `/revoke` answer. Of it only the status counts, and of a refusal a well-formed `{error,
 * error_description}`: a 200's body is not read (RFC 7009 §2.2: the client ignores it).
 */
export async function processRevokeResponse(
  response: Response,
): Promise<Exclude<RevokeResult, { outcome: 'unreachable' }>> {
  await refuseRedirect(response);
  if (response.status === 200) {
    await response.body?.cancel().catch(() => {});
    return { outcome: 'revoked' };
  }
  const text = await readAnswerText(response);
  // Any other 2xx is not RFC 7009's answer; parseTokenResponse says `ok` only below 400.
  const outcome = response.status >= 400 ? parseTokenResponse(response, text) : undefined;
  if (outcome === undefined || outcome.kind === 'ok') {
    throw answerError(response, 'invalid_response', `The swap service answered HTTP ${response.status}`);
  }
  const error = refusal(response, outcome);
  if (response.status === 501 && error.error === REVOCATION_UNAVAILABLE) {
    return { outcome: 'unsupported', error };
  }
  throw error;
}
