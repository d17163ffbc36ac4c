/**
 * What `GET /readyz` reports: whether *this* replica can serve. A dependency every replica shares
 * (Spotify Accounts behind the circuit breaker, Redis) that fails makes the answer `degraded`, still
 * 200: taking this replica out would not help, and a load balancer that honoured a 503 would take every
 * replica out at once while the token endpoints still answer (Redis has a fallback; an open breaker
 * answers 503 with Retry-After on its own). Only what is wrong with this replica (it is shutting down)
 * makes it `not_ready`, 503.
 */

export interface ReadinessCheck {
  ok: boolean;
  detail: string;
  /** Shared by every replica: when it fails, this replica still serves, degraded. */
  shared: boolean;
}

export type Readiness = 'ready' | 'degraded' | 'not_ready';

export function readinessOf(checks: Readonly<Record<string, ReadinessCheck>>): Readiness {
  const failing = Object.values(checks).filter((check) => !check.ok);
  if (failing.length === 0) return 'ready';
  return failing.every((check) => check.shared) ? 'degraded' : 'not_ready';
}
