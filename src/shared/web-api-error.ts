/**
 * The Spotify Web API's error answers: `{"error": {"status", "message"}}`, and on a 429 for an app
 * whose quota is spent, `"reason": "QUOTA_EXCEEDED"` (docs/spotify-accounts.md §6). Read as untrusted
 * input: a message that could break a terminal or a log line is dropped, a reason must look like one.
 * Pure, for every reader of such an answer: the client kit's (src/client/web-api.ts), and any other.
 */

/** The reason of a 429 when the app's quota is spent (docs/spotify-accounts.md §6). */
export const QUOTA_EXCEEDED = 'QUOTA_EXCEEDED';

export interface WebApiErrorBody {
  /** The Web API's own sentence, e.g. `Invalid access token`. */
  message: string | undefined;
  /** Spotify's machine-readable reason, e.g. `QUOTA_EXCEEDED`, `PREMIUM_REQUIRED`. */
  reason: string | undefined;
}

const MAX_MESSAGE_LENGTH = 1024;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
const REASON = /^[A-Z][A-Z0-9_]{0,63}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The message and reason of a Web API error body (parsed JSON, or anything else: then none). */
export function webApiErrorOf(body: unknown): WebApiErrorBody {
  const error = isRecord(body) && isRecord(body.error) ? body.error : {};
  const { message, reason } = error;
  return {
    message:
      typeof message === 'string' &&
      message !== '' &&
      message.length <= MAX_MESSAGE_LENGTH &&
      !CONTROL.test(message)
        ? message
        : undefined,
    reason: typeof reason === 'string' && REASON.test(reason) ? reason : undefined,
  };
}
