/**
 * The service's upstreams: one circuit breaker and one concurrency cap per Spotify Accounts base URL,
 * shared by the apps that use it, each breaker reporting its state under its own label.
 */
import type { AppConfig, ServiceConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { type BreakerState, type CircuitBreaker, createCircuitBreaker } from './breaker.js';
import { createSpotifyCaller, type SpotifyCaller } from './caller.js';
import { createConcurrencyLimiter } from './concurrency.js';
import type { UpstreamFetch } from './token-request.js';

export interface Upstreams {
  callerFor(app: AppConfig): SpotifyCaller;
  breakers(): readonly CircuitBreaker[];
}

export function createUpstreams(
  config: ServiceConfig,
  deps: { fetch: UpstreamFetch; metrics: Metrics; logger: Logger },
): Upstreams {
  const { metrics, logger } = deps;
  const { resilience } = config;
  const callers = new Map<string, { caller: SpotifyCaller; breaker: CircuitBreaker }>();
  for (const { accountsUrl } of config.apps) {
    if (callers.has(accountsUrl)) continue;
    const breaker = createCircuitBreaker({
      failureThreshold: resilience.breakerThreshold,
      cooldownMs: resilience.breakerCooldownMs,
      onStateChange: (state: BreakerState) => {
        metrics.breakerState(accountsUrl, state);
        if (state === 'open') {
          logger.error(
            { breaker: state, upstream: accountsUrl },
            'circuit breaker open: Spotify Accounts is failing',
          );
        } else {
          logger.warn({ breaker: state, upstream: accountsUrl }, `circuit breaker ${state}`);
        }
      },
    });
    metrics.breakerState(accountsUrl, 'closed');
    const limiter = createConcurrencyLimiter({
      maxConcurrent: resilience.maxConcurrency,
      queueTimeoutMs: resilience.queueTimeoutMs,
    });
    callers.set(accountsUrl, {
      breaker,
      caller: createSpotifyCaller({ fetch: deps.fetch, breaker, limiter, metrics }),
    });
  }
  return {
    callerFor(app) {
      const entry = callers.get(app.accountsUrl);
      if (!entry) throw new TypeError(`no upstream for app ${app.name}`);
      return entry.caller;
    },
    breakers: () => [...callers.values()].map((entry) => entry.breaker),
  };
}
