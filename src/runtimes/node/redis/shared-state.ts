/**
 * Redis-backed shared state, so that replicas behind one load balancer act as one service:
 * rate-limit budgets shared by all replicas (rate-limit-store.ts), refresh coalescing across
 * replicas (coalescer.ts), and the logins' revocations and rotations (login-store.ts), over one
 * connection (connection.ts).
 *
 * For rate limits and coalescing Redis is a helper, never a dependency of an answer: when it is
 * unreachable, they fall back to per-process memory, the service keeps serving, and /readyz and the
 * `token_swap_shared_store_up` metric say so. The login store has no such fallback (login-store.ts).
 */
import type { Coalescer } from '../../../server/coalesce.js';
import type { LoginStore } from '../../../server/logins/store.js';
import type { RateLimitStore } from '../../../server/rate-limit.js';
import type { ReadinessCheck } from '../../../server/readiness.js';
import { createRedisCoalescer, type RedisCoalescerOptions } from './coalescer.js';
import { type ConnectionOptions, connectRedis } from './connection.js';
import { createRedisLoginStore } from './login-store.js';
import { createRedisRateLimitStore } from './rate-limit-store.js';

export interface RedisSharedState {
  rateLimitStore: RateLimitStore;
  coalescer: Coalescer;
  loginStore: LoginStore;
  readiness(): Promise<Record<string, ReadinessCheck>>;
  /** Resolves once connected, or after `timeoutMs` (the service serves either way). */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface RedisOptions extends ConnectionOptions, RedisCoalescerOptions {}

export function createRedisSharedState(url: string, options: RedisOptions): RedisSharedState {
  const connection = connectRedis(url, options);
  return {
    rateLimitStore: createRedisRateLimitStore(connection),
    coalescer: createRedisCoalescer(connection, options),
    loginStore: createRedisLoginStore(connection),
    readiness: connection.readiness,
    ready: connection.ready,
    close: connection.close,
  };
}
