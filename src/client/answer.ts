/**
 * Reading a swap service's answer, for every call the swap client makes (swap, refresh, revoke): the
 * service is untrusted input, so a redirect is never followed, at most MAX_SWAP_RESPONSE_BYTES of a
 * body are read, and of a refusal only a well-formed `{error, error_description}` is kept, judged by
 * the reader the service applies to Spotify's answers (src/shared/token-response.ts).
 */
import { BodyTooLargeError, readTextUpTo } from '../shared/body.js';
import type { TokenOutcome } from '../shared/token-response.js';
import { SwapServiceError } from './errors.js';

/**
 * The service's answers are under 4 KiB; a swap service that sends more is broken or hostile, and is
 * not read further (a 300 MB answer would otherwise be held in memory whole).
 */
export const MAX_SWAP_RESPONSE_BYTES = 64 * 1024;

export function answerError(
  response: Response,
  error: string,
  description: string | undefined,
  retryAfter?: number,
): SwapServiceError {
  return new SwapServiceError(error, description, response.status, retryAfter, response);
}

/** Throws an `invalid_response` for a redirect: token requests are never sent on to another address. */
export async function refuseRedirect(response: Response): Promise<void> {
  // A browser's manual redirect is an opaque answer with status 0; elsewhere, a 3xx with a Location.
  if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
    await response.body?.cancel().catch(() => {});
    throw answerError(
      response,
      'invalid_response',
      'The swap service answered with a redirect; token requests are never sent on to another address',
    );
  }
}

/** The body as text, or an `invalid_response` past MAX_SWAP_RESPONSE_BYTES. */
export async function readAnswerText(response: Response): Promise<string> {
  try {
    return await readTextUpTo(response, MAX_SWAP_RESPONSE_BYTES);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    throw answerError(
      response,
      'invalid_response',
      `The swap service answered with a body over ${MAX_SWAP_RESPONSE_BYTES} bytes`,
    );
  }
}

/** The SwapServiceError for an answer that is not a success: what the service said, when well formed. */
export function refusal(
  response: Response,
  outcome: Exclude<TokenOutcome, { kind: 'ok' }>,
): SwapServiceError {
  switch (outcome.kind) {
    case 'oauth_error':
      return answerError(response, outcome.error, outcome.description);
    case 'rate_limited':
    case 'server_error':
      if (outcome.error === undefined) {
        return answerError(
          response,
          'invalid_response',
          `The swap service answered HTTP ${response.status} without a JSON error`,
          outcome.retryAfter,
        );
      }
      return answerError(response, outcome.error, outcome.description, outcome.retryAfter);
    case 'invalid_response':
      return answerError(response, 'invalid_response', `The swap service answered ${outcome.reason}`);
  }
}
