/**
 * Every call to Spotify's token endpoint goes through here: circuit breaker, concurrency cap,
 * retries, timing and metrics around the plain request/response pair in upstream.ts.
 *
 * Retries follow what is safe for each grant (wire-facts §1):
 * - a code exchange is retried only when the connection failed before the request was sent (a code
 *   is single use: a second try after a lost answer only gets invalid_grant);
 * - a refresh is retried at most once, after a jittered pause, on a network error or a 502/503/504,
 *   never on a 4xx.
 */
import type { CircuitBreaker } from './breaker.js';
import type { ConcurrencyLimiter } from './concurrency.js';
import type { AppConfig } from './config.js';
import type { OAuthError } from './errors.js';
import type { Logger } from './logger.js';
import type { Metrics, UpstreamOutcome } from './metrics.js';
import {
  processTokenResponse,
  type TokenGrant,
  type TokenResponse,
  tokenRequest,
  type UpstreamFetch,
  upstreamFailure,
} from './upstream.js';

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
  call(app: AppConfig, grant: TokenGrant, log: Logger): Promise<TokenResponse>;
}

/** Error codes by which Node's fetch says no connection was made: the request never left. */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function failedBeforeSending(error: unknown): boolean {
  const code = causeCode(error);
  return code !== undefined && NOT_CONNECTED.has(code);
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

const RETRYABLE_REFRESH_STATUS = new Set([502, 503, 504]);

function outcomeOf(failure: OAuthError, raw: unknown, status: number | undefined): UpstreamOutcome {
  if (status === undefined) return isTimeout(raw) ? 'timeout' : 'network_error';
  if (status >= 500) return 'server_error';
  if (status === 429) return 'rate_limited';
  // A 2xx or 4xx that failed validation became a 502; a 4xx OAuth error passed through.
  return failure.status === 502 ? 'invalid_response' : 'oauth_error';
}

export function createSpotifyCaller(deps: SpotifyCallerDeps): SpotifyCaller {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = deps.random ?? Math.random;

  return {
    async call(app, grant, log) {
      const kind = grant.grant_type;
      deps.breaker.admit();
      let release: () => void;
      try {
        release = await deps.limiter.acquire();
      } catch (error) {
        deps.metrics.capacityRejected();
        throw error;
      }
      try {
        for (let attempt = 1; ; attempt++) {
          const started = performance.now();
          let status: number | undefined;
          // A timer of our own, cleared as soon as the call is over: AbortSignal.timeout would keep a
          // timer and its listeners alive for the whole timeout after every call.
          const controller = new AbortController();
          const timer = setTimeout(
            () => controller.abort(new DOMException('The upstream call timed out', 'TimeoutError')),
            app.upstreamTimeoutMs,
          );
          try {
            const response = await tokenRequest(app, grant, {
              fetch: deps.fetch,
              signal: controller.signal,
            });
            status = response.status;
            const tokens = await processTokenResponse(response);
            clearTimeout(timer);
            deps.breaker.success();
            deps.metrics.upstream(kind, 'ok', seconds(started));
            log.debug(
              { grant: kind, upstreamStatus: status, upstreamMs: ms(started), attempt },
              'spotify token call',
            );
            return tokens;
          } catch (raw) {
            clearTimeout(timer);
            const failure = upstreamFailure(raw, app.upstreamTimeoutMs);
            const outcome = outcomeOf(failure, raw, status);
            deps.metrics.upstream(kind, outcome, seconds(started));
            log.debug(
              { grant: kind, upstreamStatus: status ?? outcome, upstreamMs: ms(started), attempt },
              'spotify token call',
            );
            if (failure.status >= 500) {
              deps.breaker.failure();
            } else {
              deps.breaker.success();
            }
            if (failure.error === 'invalid_client') {
              log.error(
                { app: app.name },
                'Spotify refused the client credentials: check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET',
              );
            }
            const retry =
              attempt === 1 &&
              (kind === 'authorization_code'
                ? failedBeforeSending(raw)
                : outcome === 'network_error' ||
                  (status !== undefined && RETRYABLE_REFRESH_STATUS.has(status)));
            if (!retry) {
              throw failure;
            }
            deps.metrics.retry(kind);
            log.warn({ grant: kind, outcome }, 'retrying the Spotify token call once');
            // Jitter, so that replicas retrying after the same blip do not arrive together.
            await sleep(50 + random() * 200);
            try {
              deps.breaker.admit();
            } catch {
              // The breaker opened meanwhile: no retry, and the caller hears what actually failed.
              throw failure;
            }
          }
        }
      } finally {
        release();
      }
    },
  };
}

function seconds(started: number): number {
  return (performance.now() - started) / 1000;
}

function ms(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
