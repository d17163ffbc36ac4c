/**
 * How a `fetch` (or the read of its body) that threw was ended: by a deadline (`AbortSignal.timeout`, or
 * a controller aborted with a `TimeoutError`), by someone's `abort()`, or by anything else (the network).
 * The one place that reads an error's name for this, on every runtime alike.
 */
export type AbortKind = 'timeout' | 'aborted';

export function abortKind(error: unknown): AbortKind | undefined {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' ? 'timeout' : name === 'AbortError' ? 'aborted' : undefined;
}
