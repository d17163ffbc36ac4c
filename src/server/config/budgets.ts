/**
 * How long things can take, derived from the configured timeouts, so that every bound that depends on
 * them (how long a replica waits for another's refresh, how long a shutdown waits for in-flight
 * requests) follows when an operator changes a timeout.
 */
import type { ServiceConfig } from './model.js';

/** The retry pause of a refresh is at most this (src/server/upstream/caller.ts: 50 + 200 ms jitter). */
const RETRY_PAUSE_MS = 250;

/**
 * The longest one refresh can take upstream: a slot in the concurrency queue, two attempts of the
 * slowest app, and the pause between them (rounded up to a second).
 */
export function refreshBudgetMs(config: Pick<ServiceConfig, 'apps' | 'resilience'>): number {
  const upstreamTimeoutMs = Math.max(...config.apps.map((app) => app.upstreamTimeoutMs));
  return config.resilience.queueTimeoutMs + upstreamTimeoutMs * 2 + 1_000;
}

/**
 * The longest a token request can take, end to end: its own call (`refreshBudgetMs`), after waiting
 * for another replica's refresh of the same token for up to that long when Redis coalesces across
 * replicas.
 */
export function longestRequestMs(config: Pick<ServiceConfig, 'apps' | 'resilience' | 'redisUrl'>): number {
  const own = refreshBudgetMs(config) + RETRY_PAUSE_MS;
  return config.redisUrl === undefined ? own : own + refreshBudgetMs(config);
}

/** The default shutdown grace: a little more than the longest request, so that none is cut off. */
export function defaultShutdownGraceMs(
  config: Pick<ServiceConfig, 'apps' | 'resilience' | 'redisUrl'>,
): number {
  return longestRequestMs(config) + 1_000;
}
