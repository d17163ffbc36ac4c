/**
 * A circuit breaker in front of Spotify Accounts. It counts only what says Spotify is unwell
 * (policy.ts `isUpstreamFailure`), never an OAuth 4xx, which is the caller's problem. While open,
 * callers get a 503 with Retry-After at once instead of piling onto a failing upstream and spending the
 * app's rate budget; after the cooldown one probe goes through (half-open).
 *
 * Admission hands out a permit. The caller reports the verdict on it, and releases it in `finally`
 * whatever happened: a call that never reached Spotify (refused by the concurrency cap, say) gives its
 * half-open probe slot back instead of holding it until some other call settles.
 */
import { temporarilyUnavailable } from '../errors.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  cooldownMs: number;
  now?: () => number;
  onStateChange?: (state: BreakerState) => void;
}

export interface BreakerPermit {
  /** Spotify answered sanely (an OAuth error counts: it is about the request). */
  success(): void;
  /** The call says Spotify is failing. */
  failure(): void;
  /** Ends the permit; without a verdict it counts for nothing. Idempotent: call it in `finally`. */
  release(): void;
}

export interface CircuitBreaker {
  state(): BreakerState;
  /** A permit for one call, or a thrown 503 OAuthError when no call may go through now. */
  admit(): BreakerPermit;
}

export function createCircuitBreaker(options: BreakerOptions): CircuitBreaker {
  const now = options.now ?? Date.now;
  let state: BreakerState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let probeInFlight = false;

  const transition = (next: BreakerState) => {
    if (next !== state) {
      state = next;
      options.onStateChange?.(next);
    }
  };

  const unavailable = (seconds: number) =>
    temporarilyUnavailable(
      `Spotify Accounts is failing; the service stopped calling it for now. Retry after ${seconds} seconds`,
      seconds,
    );

  const current = (): BreakerState => {
    if (state === 'open' && now() - openedAt >= options.cooldownMs) {
      transition('half_open');
    }
    return state;
  };

  return {
    state: current,
    admit() {
      const admittedIn = current();
      if (admittedIn === 'open') {
        throw unavailable(Math.max(1, Math.ceil((openedAt + options.cooldownMs - now()) / 1000)));
      }
      const probe = admittedIn === 'half_open';
      if (probe) {
        if (probeInFlight) throw unavailable(1);
        probeInFlight = true;
      }
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        if (probe) probeInFlight = false;
        return true;
      };
      return {
        success() {
          if (!settle()) return;
          failures = 0;
          transition('closed');
        },
        failure() {
          if (!settle()) return;
          failures += 1;
          if (probe || state === 'half_open' || failures >= options.failureThreshold) {
            openedAt = now();
            failures = 0;
            transition('open');
          }
        },
        release() {
          settle();
        },
      };
    },
  };
}
