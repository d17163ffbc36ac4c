/**
 * Rate-limit budgets shared by every replica: one atomic INCR + PEXPIRE script per hit, and the
 * per-process memory store whenever Redis fails, so that a request is never refused for it.
 */
import type { Redis } from 'ioredis';
import {
  createFailoverRateLimitStore,
  createMemoryRateLimitStore,
  type RateLimitStore,
} from '../../../server/rate-limit.js';
import { KEY_PREFIX, type RedisConnection } from './connection.js';

// A key found without an expiry (written by anything but this script) would otherwise count forever.
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}`;

type HitCommand = { tokenSwapHit(key: string, windowMs: number): Promise<[number, number]> };

export function createRedisRateLimitStore({ client, report }: RedisConnection): RateLimitStore {
  client.defineCommand('tokenSwapHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
  const redis = client as Redis & HitCommand;
  const shared: RateLimitStore = {
    async increment(clientKey, { name, windowMs }) {
      const [count, ttl] = await redis.tokenSwapHit(`${KEY_PREFIX}rate:${name}:${clientKey}`, windowMs);
      return { count, resetMs: ttl };
    },
  };
  return createFailoverRateLimitStore(shared, createMemoryRateLimitStore(), report);
}
