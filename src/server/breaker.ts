/**
 * A circuit breaker in front of Spotify Accounts. It counts only what says Spotify is unwell
 * (timeouts, network failures, 5xx, garbage), never an OAuth 4xx, which is the caller's problem.
 * While open, callers get a 503 with Retry-After at once instead of piling onto a failing upstream
 * and spending the app's rate budget; after the cooldown one probe goes through (half-open).
 */
import { OAuthError } from './errors.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  cooldownMs: number;
  now?: () => number;
  onStateChange?: (state: BreakerState) => void;
}

export interface CircuitBreaker {
  state(): BreakerState;
  /** Throws a 503 OAuthError when no call may go through now. */
  admit(): void;
  success(): void;
  failure(): void;
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
    new OAuthError(
      503,
      'temporarily_unavailable',
      `Spotify Accounts is failing; the service stopped calling it for now. Retry after ${seconds} seconds`,
      { 'Retry-After': String(seconds) },
    );

  return {
    state() {
      if (state === 'open' && now() - openedAt >= options.cooldownMs) {
        transition('half_open');
      }
      return state;
    },
    admit() {
      const current = this.state();
      if (current === 'open') {
        throw unavailable(Math.max(1, Math.ceil((openedAt + options.cooldownMs - now()) / 1000)));
      }
      if (current === 'half_open') {
        if (probeInFlight) throw unavailable(1);
        probeInFlight = true;
      }
    },
    success() {
      probeInFlight = false;
      failures = 0;
      transition('closed');
    },
    failure() {
      probeInFlight = false;
      failures += 1;
      if (state === 'half_open' || failures >= options.failureThreshold) {
        openedAt = now();
        failures = 0;
        transition('open');
      }
    },
  };
}
