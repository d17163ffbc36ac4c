/** Redis-backed state shared by replicas: rate limits and refresh coalescing. */
export type { CoalescerTimings } from './coalescer.js';
export type { RedisOptions, RedisSharedState } from './shared-state.js';
export { createRedisSharedState } from './shared-state.js';
