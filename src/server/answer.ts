/**
 * A JSON answer as it goes on the wire: status, body text and the headers beyond the ones every JSON
 * answer carries. Handlers build answers, a shared refresh hands the very same one to every waiter
 * (coalesce.ts, and Redis across replicas), and `respond` turns one into a `Response`.
 */

export interface Answer {
  status: number;
  /** JSON text. */
  body: string;
  /** Headers besides JSON_HEADERS, e.g. `Retry-After`. */
  headers: Readonly<Record<string, string>>;
}

/** Token responses must never be cached (RFC 6749 §5.1); nothing else of this service should be either. */
export const JSON_HEADERS: Readonly<Record<string, string>> = {
  // Exactly `application/json`: SpotifyAPI-NET compares the whole media type (docs/spotify-accounts.md §5).
  'Content-Type': 'application/json',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
};

export function jsonAnswer(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return { status, body: JSON.stringify(body), headers };
}

/** The Answer a Response was made from (`respond`), so that headers can be added by rebuilding it. */
const ANSWER = Symbol('answer');
type Answered = Response & { [ANSWER]?: Answer };

export function respond(answer: Answer): Response {
  const response: Answered = new Response(answer.body, {
    status: answer.status,
    headers: { ...JSON_HEADERS, ...answer.headers },
  });
  response[ANSWER] = answer;
  return response;
}

/**
 * `response` with `headers` added, for middleware that adds headers to every answer (the request id,
 * the rate limit). An answer of `respond` is made again, with its headers given as a plain object:
 * touching `response.headers` instead would turn them into a Web `Headers` object, which on Node
 * (@hono/node-server) costs that and the conversion back, a measured share of each request's time
 * (docs/benchmarks.md). Any other response gets its headers set in place.
 */
export function withHeaders(response: Response, headers: Readonly<Record<string, string>>): Response {
  if (isEmpty(headers)) return response;
  const answer = (response as Answered)[ANSWER];
  if (answer !== undefined) return respond({ ...answer, headers: { ...answer.headers, ...headers } });
  for (const name in headers) response.headers.set(name, headers[name] as string);
  return response;
}

function isEmpty(headers: Readonly<Record<string, string>>): boolean {
  for (const _ in headers) return false;
  return true;
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return respond(jsonAnswer(status, body, headers));
}
