/**
 * The login store in Redis (src/server/logins/store.ts): one hash per login, shared by every replica
 * and kept across restarts, each expiring when its login would have ended anyway (PEXPIREAT, never
 * moved earlier). A rotation is one script, so that of two replicas refreshing the same token at
 * once exactly one records its generation. DPoP proofs seen are plain keys with a TTL.
 *
 * Unlike rate limits and coalescing, there is no per-process fallback: a revocation kept in one
 * process's memory would be a promise the other replicas break. A failed call throws, and the token
 * endpoints decide (endpoints/login-state.ts): a rotating app answers 503, any other goes on.
 */
import type { Redis } from 'ioredis';
import type { LoginRecord, LoginStore, Rotation } from '../../../server/logins/store.js';
import { KEY_PREFIX, type RedisConnection } from './connection.js';

/**
 * Makes the key live until `at` (epoch ms) unless it already lives longer; `now` is the caller's clock
 * (PTTL and arithmetic rather than PEXPIRETIME, which needs Redis 7).
 */
const EXTEND = `
local function extend(key, at, now)
  local want = tonumber(at) - tonumber(now)
  if want < 1 then want = 1 end
  if redis.call('PTTL', key) < want then redis.call('PEXPIRE', key, want) end
end`;

const REVOKE_SCRIPT = `${EXTEND}
redis.call('HSET', KEYS[1], 'revoked', '1')
extend(KEYS[1], ARGV[1], ARGV[2])
return 1`;

// ARGV: expected generation ('' for none recorded yet), next generation, rotatedAt, answer, untilMs, now.
const ROTATE_SCRIPT = `${EXTEND}
if redis.call('HGET', KEYS[1], 'revoked') then return 0 end
local current = redis.call('HGET', KEYS[1], 'generation') or ''
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'generation', ARGV[2], 'rotatedAt', ARGV[3], 'answer', ARGV[4], 'lastUsedAt', ARGV[3])
extend(KEYS[1], ARGV[5], ARGV[6])
return 1`;

const TOUCH_SCRIPT = `${EXTEND}
local last = tonumber(redis.call('HGET', KEYS[1], 'lastUsedAt') or '0')
if last < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'lastUsedAt', ARGV[1]) end
extend(KEYS[1], ARGV[2], ARGV[3])
return 1`;

type LoginCommands = {
  tokenSwapLoginRevoke(key: string, untilMs: number, nowMs: number): Promise<number>;
  tokenSwapLoginRotate(
    key: string,
    expected: string,
    generation: number,
    rotatedAt: number,
    answer: string,
    untilMs: number,
    nowMs: number,
  ): Promise<number>;
  tokenSwapLoginTouch(key: string, atMs: number, untilMs: number, nowMs: number): Promise<number>;
};

const number = (text: string | undefined) => {
  const value = text === undefined ? Number.NaN : Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
};

/** The record a hash holds, field by field: anything else in it (another version's fields) is ignored. */
function recordOf(fields: Record<string, string>): LoginRecord | undefined {
  if (Object.keys(fields).length === 0) return undefined;
  const record: { -readonly [K in keyof LoginRecord]: LoginRecord[K] } = {};
  if (fields.revoked === '1') record.revoked = true;
  const generation = number(fields.generation);
  if (generation !== undefined) record.generation = generation;
  const rotatedAt = number(fields.rotatedAt);
  if (rotatedAt !== undefined) record.rotatedAt = rotatedAt;
  if (fields.answer !== undefined) record.answer = fields.answer;
  const lastUsedAt = number(fields.lastUsedAt);
  if (lastUsedAt !== undefined) record.lastUsedAt = lastUsedAt;
  return record;
}

export function createRedisLoginStore(
  { client, report }: Pick<RedisConnection, 'client' | 'report'>,
  now: () => number = Date.now,
): LoginStore {
  client.defineCommand('tokenSwapLoginRevoke', { numberOfKeys: 1, lua: REVOKE_SCRIPT });
  client.defineCommand('tokenSwapLoginRotate', { numberOfKeys: 1, lua: ROTATE_SCRIPT });
  client.defineCommand('tokenSwapLoginTouch', { numberOfKeys: 1, lua: TOUCH_SCRIPT });
  const redis = client as Redis & LoginCommands;
  const keyOf = (key: string) => `${KEY_PREFIX}login:${key}`;

  /** Every call reports what it saw, so that /readyz and the metric follow Redis' health. */
  async function call<T>(run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      report(true);
      return result;
    } catch (error) {
      report(false, error);
      throw error;
    }
  }

  return {
    kind: 'redis',
    shared: true,
    get: (key) => call(async () => recordOf(await redis.hgetall(keyOf(key)))),
    revoke: (key, untilMs) =>
      call(async () => {
        await redis.tokenSwapLoginRevoke(keyOf(key), untilMs, now());
      }),
    rotate: (key, expected, next: Rotation, untilMs) =>
      call(
        async () =>
          (await redis.tokenSwapLoginRotate(
            keyOf(key),
            expected === undefined ? '' : String(expected),
            next.generation,
            next.rotatedAt,
            next.answer,
            untilMs,
            now(),
          )) === 1,
      ),
    touch: (key, atMs, untilMs) =>
      call(async () => {
        await redis.tokenSwapLoginTouch(keyOf(key), atMs, untilMs, now());
      }),
    // SET NX is the one step: of two replicas given the same proof at once, exactly one sets it.
    seenJti: (key, untilMs) =>
      call(
        async () =>
          (await redis.set(`${KEY_PREFIX}dpop:${key}`, '1', 'PX', Math.max(1, untilMs - now()), 'NX')) ===
          null,
      ),
  };
}
