/**
 * The metrics seam. The core records through this interface; the Node entry backs it with
 * prom-client and serves GET /metrics. Labels are bounded sets (route patterns, grant types,
 * outcome names), never anything a client controls.
 */
import type { BreakerState } from './upstream/breaker.js';
import type { UpstreamResult } from './upstream/token-request.js';

/** Why the service refused a refresh itself. */
export type RefreshRefusal = 'expired';

/** How a call to Spotify ended: `ok`, `oauth_error`, `rate_limited`, `server_error`, `timeout`, ... */
type UpstreamOutcome = UpstreamResult['kind'];

export interface Metrics {
  request(route: string, method: string, status: number, seconds: number): void;
  upstream(grant: string, outcome: UpstreamOutcome, seconds: number): void;
  retry(grant: string): void;
  /** A refresh answered by another request's upstream call. `shared`: via Redis, across replicas. */
  coalesced(scope: 'local' | 'shared'): void;
  /** The state of the breaker in front of one upstream (its Accounts base URL: a configured, bounded set). */
  breakerState(upstream: string, state: BreakerState): void;
  rateLimited(policy: string): void;
  /** A refresh refused by the service itself, before Spotify: the login ended, was revoked, ... */
  refreshRefused(reason: RefreshRefusal): void;
  capacityRejected(): void;
  /** Whether the shared store (Redis) is usable; absent when none is configured. */
  sharedStoreUp(up: boolean): void;
  /** The Prometheus text exposition, when this implementation can render one. */
  render?(): Promise<{ contentType: string; body: string }>;
}

const noop = () => {};

export const noopMetrics: Metrics = {
  request: noop,
  upstream: noop,
  retry: noop,
  coalesced: noop,
  breakerState: noop,
  rateLimited: noop,
  refreshRefused: noop,
  capacityRejected: noop,
  sharedStoreUp: noop,
};
