/**
 * The metrics seam. The core records through this interface; the Node entry backs it with
 * prom-client and serves GET /metrics. Labels are bounded sets (route patterns, grant types,
 * outcome names), never anything a client controls.
 */
import type { BreakerState } from './upstream/breaker.js';
import type { UpstreamResult } from './upstream/token-request.js';

/**
 * Why the service refused a refresh itself: the login is past its maximum age (`expired`), went
 * unused too long (`idle`), was revoked (`revoked`), one of its tokens was used twice (`reuse`), or
 * a token bound to a DPoP key came without a proof by that key (`dpop`).
 */
export type RefreshRefusal = 'expired' | 'idle' | 'revoked' | 'reuse' | 'dpop';

/** Why a refresh handed out a new sealed token (endpoints/grants.ts). */
export type ResealReason = 'rotation' | 'spotify_rotated' | 'old_key' | 'old_format' | 'legacy' | 'idle';

/** What a refresh presented: the key id it was sealed with and its format, for key rotation. */
export interface PresentedKey {
  app: string;
  /** The key id (hex, from the secret by HKDF: not the secret), `legacy` for the Ruby service's. */
  key: string;
  format: 'sts1' | 'sts2' | 'legacy';
}

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
  refreshRefused(app: string, reason: RefreshRefusal): void;
  /** A refresh that reached Spotify: which key and format its token had, and the login's age (seconds; unknown: undefined). */
  refreshPresented(presented: PresentedKey, loginAgeSeconds: number | undefined): void;
  /** A refresh answered with a new sealed token. */
  refreshResealed(app: string, reason: ResealReason): void;
  /** A rotated token's predecessor presented within its grace, answered as its first use was. */
  refreshReplayed(app: string): void;
  /** `POST /revoke` of a token that opened (`revoked`) or did not (`unknown`: answered 200 all the same). */
  revocation(app: string, outcome: 'revoked' | 'unknown'): void;
  /** A call to the login store (revocations, rotation) that failed. */
  loginStoreError(operation: 'get' | 'revoke' | 'rotate' | 'touch'): void;
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
  refreshPresented: noop,
  refreshResealed: noop,
  refreshReplayed: noop,
  revocation: noop,
  loginStoreError: noop,
  capacityRejected: noop,
  sharedStoreUp: noop,
};
