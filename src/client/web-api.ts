/**
 * Reading the Spotify Web API's error answers, for apps that call it with the tokens the kit hands
 * out: the status, the Web API's message, Spotify's `reason` (`QUOTA_EXCEEDED` when the app's quota
 * is spent, docs/spotify-accounts.md §6) and `Retry-After`, and one sentence a person can act on.
 */
import { BodyTooLargeError, readTextUpTo } from '../shared/body.js';
import { retryAfterSeconds } from '../shared/token-response.js';
import { QUOTA_EXCEEDED, type WebApiErrorBody, webApiErrorOf } from '../shared/web-api-error.js';

export { QUOTA_EXCEEDED } from '../shared/web-api-error.js';

export interface WebApiErrorAnswer extends WebApiErrorBody {
  /** HTTP status of the answer. */
  status: number;
  /** Whole seconds from `Retry-After`, when the answer had one. */
  retryAfter: number | undefined;
}

/** The Web API's error bodies are a few hundred bytes; more is not read. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Reads a Web API answer that is not a success. Never throws for what the body holds. */
export async function readWebApiError(response: Response, now = Date.now()): Promise<WebApiErrorAnswer> {
  let text = '';
  try {
    text = await readTextUpTo(response, MAX_ERROR_BODY_BYTES);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
  }
  const header = response.headers.get('retry-after');
  return {
    status: response.status,
    ...webApiErrorOf(parseJson(text)),
    retryAfter: header === null ? undefined : retryAfterSeconds(header, now),
  };
}

/**
 * One sentence for a person: `Spotify's quota for this app is spent (QUOTA_EXCEEDED); try again in
 * 30 s`, the Web API's own message (`Invalid access token`), or the status when it said nothing.
 */
export function describeWebApiError(answer: WebApiErrorAnswer): string {
  const wait = answer.retryAfter === undefined ? '' : `; try again in ${answer.retryAfter} s`;
  if (answer.reason === QUOTA_EXCEEDED) {
    return `Spotify's quota for this app is spent (${QUOTA_EXCEEDED})${wait}`;
  }
  const reason = answer.reason === undefined ? '' : ` (${answer.reason})`;
  if (answer.status === 429) {
    return `Spotify's Web API is rate limiting this app${reason || ' (HTTP 429)'}${wait}`;
  }
  return `${answer.message ?? `The Web API answered HTTP ${answer.status}`}${reason}`;
}
