/**
 * Per-address rate limiting with separate budgets per endpoint, fixed one-minute windows, and the
 * IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy` and
 * `RateLimit`). One abusive caller of a swap service would otherwise spend the Spotify rate budget
 * of every user of the app (docs/spotify-accounts.md §1).
 */

/**
 * What a store knows of one hit: the count in the window, or, from a store that only says yes or no
 * (Cloudflare's rate limiting binding), whether the hit is within the budget.
 */
type RateLimitHit =
  | {
      /** Hits in the current window, this one included. */
      count: number;
      /** Milliseconds until the window resets. */
      resetMs: number;
    }
  | {
      count?: undefined;
      allowed: boolean;
      /** The most the window can still last: the whole of it. */
      resetMs: number;
    };

export interface RateLimitPolicy {
  /** Token naming the policy in the headers, e.g. `swap`. */
  name: string;
  /** Requests per window; 0 disables the policy. */
  limit: number;
  windowMs: number;
}

/**
 * Where counts live: memory (one process), Redis (all replicas), or a platform's limiter. The store
 * gets the policy itself, so each store keeps a separate count per policy and client in its own way.
 */
export interface RateLimitStore {
  /** Counts one hit of `clientKey` under `policy`. */
  increment(clientKey: string, policy: RateLimitPolicy): Promise<RateLimitHit>;
}

export interface RateLimitDecision {
  allowed: boolean;
  headers: Record<string, string>;
  retryAfterSeconds: number;
}

/** Counts in this process only. Expired windows are swept as the map is used, so it stays bounded. */
export function createMemoryRateLimitStore(now: () => number = Date.now): RateLimitStore {
  const windows = new Map<string, { count: number; resetAt: number }>();
  let lastSweep = now();
  return {
    async increment(clientKey, { name, windowMs }) {
      const key = `${name}:${clientKey}`;
      const time = now();
      if (time - lastSweep > windowMs) {
        for (const [k, w] of windows) if (w.resetAt <= time) windows.delete(k);
        lastSweep = time;
      }
      let window = windows.get(key);
      if (!window || window.resetAt <= time) {
        window = { count: 0, resetAt: time + windowMs };
        windows.set(key, window);
      }
      window.count += 1;
      return { count: window.count, resetMs: window.resetAt - time };
    },
  };
}

/**
 * Uses `primary` (Redis) while it works, and `fallback` (memory) when it fails, so the service keeps
 * serving with per-replica budgets instead of failing requests; `onFailover(up)` reports changes.
 */
export function createFailoverRateLimitStore(
  primary: RateLimitStore,
  fallback: RateLimitStore,
  onFailover: (primaryUp: boolean, error?: unknown) => void,
): RateLimitStore {
  let primaryUp = true;
  return {
    async increment(clientKey, policy) {
      try {
        const hit = await primary.increment(clientKey, policy);
        if (!primaryUp) {
          primaryUp = true;
          onFailover(true);
        }
        return hit;
      } catch (error) {
        if (primaryUp) {
          primaryUp = false;
          onFailover(false, error);
        }
        return fallback.increment(clientKey, policy);
      }
    },
  };
}

export async function checkRateLimit(
  store: RateLimitStore,
  policy: RateLimitPolicy,
  clientKey: string,
): Promise<RateLimitDecision> {
  const hit = await store.increment(clientKey, policy);
  const reset = Math.max(1, Math.ceil(hit.resetMs / 1000));
  const headers: Record<string, string> = {
    'RateLimit-Policy': `${policy.name};q=${policy.limit};w=${Math.round(policy.windowMs / 1000)}`,
  };
  // A store that says only yes or no has no remaining count to tell, so no `RateLimit` field then,
  // rather than a made-up one; its Retry-After is the whole window, the longest a refusal can last.
  if (hit.count !== undefined) {
    headers.RateLimit = `${policy.name};r=${Math.max(0, policy.limit - hit.count)};t=${reset}`;
  }
  return {
    allowed: hit.count === undefined ? hit.allowed : hit.count <= policy.limit,
    retryAfterSeconds: reset,
    headers,
  };
}
