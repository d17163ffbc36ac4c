/** Cached prom-client children, for the metrics every request or refresh updates. */

/** More distinct label sets than the routes, methods and statuses of a service ever make. */
const MAX_CACHED_CHILDREN = 1_000;

/**
 * prom-client's child of each label set, made once: `inc({...labels})` hashes the label object on
 * every call, a measured share of each request's time (docs/benchmarks.md). Bounded, so that odd
 * methods from clients cannot grow it without end (they are still counted, just looked up each time).
 */
export function children<T>(make: (values: readonly string[]) => T): (...values: string[]) => T {
  const made = new Map<string, T>();
  return (...values) => {
    const key = values.join('\u0000');
    let child = made.get(key);
    if (child === undefined) {
      child = make(values);
      if (made.size < MAX_CACHED_CHILDREN) made.set(key, child);
    }
    return child;
  };
}
