/**
 * Per-client rate limiting of one endpoint: the answer carries the RateLimit header fields, and a
 * client over its budget gets a 429 with Retry-After without the handler running. The counting is
 * the store's (rate-limit.ts); who the client is, the caller's.
 */

import type { Context, MiddlewareHandler } from 'hono';
import { withHeaders } from '../answer.js';
import { errorResponse, OAuthError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { checkRateLimit, type RateLimitPolicy, type RateLimitStore } from '../rate-limit.js';
import { replaceResponse } from './replace-response.js';

export interface RateLimitOptions {
  store: RateLimitStore;
  policy: RateLimitPolicy;
  /** Whose budget a request spends, e.g. the app and the client address. */
  clientKey: (c: Context) => string;
  metrics: Metrics;
}

/**
 * The check alone, for a handler that knows which budget a request spends only once it has read the
 * body (POST /token: the grant type): the refusal to answer with, or the headers to add to the answer.
 */
export function budgetCheck(
  options: RateLimitOptions,
): (c: Context) => Promise<{ refused: Response } | { headers: Readonly<Record<string, string>> }> {
  const { store, policy, clientKey, metrics } = options;
  return async function budgetCheck(c) {
    if (policy.limit === 0) return { headers: {} };
    const decision = await checkRateLimit(store, policy, clientKey(c));
    if (decision.allowed) return { headers: decision.headers };
    metrics.rateLimited(policy.name);
    return {
      refused: errorResponse(
        new OAuthError(
          429,
          'rate_limited',
          `Too many requests from this address; retry after ${decision.retryAfterSeconds} seconds`,
          { ...decision.headers, 'Retry-After': String(decision.retryAfterSeconds) },
        ),
      ),
    };
  };
}

/**
 * The middleware of a budget of 0: no limit, nothing to count and no header fields to add. Routes leave
 * it out (`budgetLayers`): each Hono layer is one more async function held while Spotify answers
 * (docs/benchmarks.md, "What a refresh holds while it waits").
 */
const NO_LIMIT: MiddlewareHandler = (_c, next) => next();

/** A route's handlers behind `budget`, which is left out when it limits nothing. */
export function budgeted<H>(budget: MiddlewareHandler, ...handlers: [H, ...H[]]): [H, ...H[]] {
  return budget === NO_LIMIT ? handlers : [budget as H, ...handlers];
}

export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  if (options.policy.limit === 0) return NO_LIMIT;
  const check = budgetCheck(options);
  return async function rateLimit(c, next) {
    const decision = await check(c);
    if ('refused' in decision) return decision.refused;
    await next();
    replaceResponse(c, withHeaders(c.res, decision.headers));
  };
}
