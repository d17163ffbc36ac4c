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

export function respond(answer: Answer): Response {
  return new Response(answer.body, {
    status: answer.status,
    headers: { ...JSON_HEADERS, ...answer.headers },
  });
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return respond(jsonAnswer(status, body, headers));
}
