/**
 * Every call to Spotify's token endpoint goes through here: the circuit breaker, the concurrency cap,
 * the retry rules of policy.ts, timing, metrics and logs around one attempt (token-request.ts).
 */
import type { TokenResponse } from '../../shared/token-response.js';
import type { AppConfig } from '../config/index.js';
import { OAuthError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { endUpstreamSpan, type RequestSpan, startUpstreamSpan } from '../tracing.js';
import type { BreakerPermit, CircuitBreaker } from './breaker.js';
import type { ConcurrencyLimiter, Release } from './concurrency.js';
import { answerFor, isUpstreamFailure, shouldRetry } from './policy.js';
import {
  attemptTokenCall,
  type TokenGrant,
  type UpstreamFetch,
  type UpstreamResult,
} from './token-request.js';

export interface SpotifyCallerDeps {
  fetch: UpstreamFetch;
  breaker: CircuitBreaker;
  limiter: ConcurrencyLimiter;
  metrics: Metrics;
  /** Injectable for tests; resolves after `ms`. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface SpotifyCaller {
  /** The tokens, or throws the OAuthError the client should see. `span`: each attempt's parent. */
  call(app: AppConfig, grant: TokenGrant, log: Logger, span?: RequestSpan): Promise<TokenResponse>;
}

export function createSpotifyCaller(deps: SpotifyCallerDeps): SpotifyCaller {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = deps.random ?? Math.random;

  /** A slot of the concurrency cap once every one was taken: after a wait in its queue, or a 503. */
  async function queueForSlot(): Promise<Release> {
    try {
      return await deps.limiter.acquire();
    } catch (error) {
      deps.metrics.capacityRejected();
      throw error;
    }
  }

  /** One attempt under `permit`, measured, traced, logged and judged for the breaker. */
  async function attempt(
    app: AppConfig,
    grant: TokenGrant,
    permit: BreakerPermit,
    trace: { log: Logger; span: RequestSpan | undefined },
    number: number,
  ): Promise<UpstreamResult> {
    const { log } = trace;
    const span = startUpstreamSpan(trace.span, app, { grantType: grant.grant_type, attempt: number });
    const started = performance.now();
    const result = await attemptTokenCall(app, grant, deps.fetch);
    const elapsed = performance.now() - started;
    endUpstreamSpan(span, result);
    deps.metrics.upstream(grant.grant_type, result.kind, elapsed / 1000);
    log.debug(
      {
        grant: grant.grant_type,
        upstreamStatus: 'status' in result ? result.status : result.kind,
        upstreamMs: Math.round(elapsed * 10) / 10,
        attempt: number,
      },
      'spotify token call',
    );
    if (isUpstreamFailure(result)) permit.failure();
    else permit.success();
    if (result.kind === 'oauth_error' && result.error === 'invalid_client') {
      log.error(
        { app: app.name },
        'Spotify refused the client credentials: check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET',
      );
    }
    return result;
  }

  return {
    async call(app, grant, log, span) {
      let permit = deps.breaker.admit();
      try {
        const release = deps.limiter.tryAcquire() ?? (await queueForSlot());
        try {
          for (let number = 1; ; number++) {
            const result = await attempt(app, grant, permit, { log, span }, number);
            if (!shouldRetry(grant.grant_type, result, number)) {
              const answer = answerFor(result, app.upstreamTimeoutMs);
              if (answer instanceof OAuthError) throw answer;
              return answer;
            }
            deps.metrics.retry(grant.grant_type);
            log.warn(
              { grant: grant.grant_type, outcome: result.kind },
              'retrying the Spotify token call once',
            );
            // Jitter, so that replicas retrying after the same blip do not arrive together.
            await sleep(50 + random() * 200);
            permit.release();
            try {
              permit = deps.breaker.admit();
            } catch {
              // The breaker opened meanwhile: no retry, and the caller hears what actually failed.
              throw answerFor(result, app.upstreamTimeoutMs);
            }
          }
        } finally {
          release();
        }
      } finally {
        permit.release();
      }
    },
  };
}
