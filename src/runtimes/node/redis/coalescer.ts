/**
 * Refresh coalescing across replicas: one replica calls Spotify, the others wait for its answer,
 * which stays in Redis for a few seconds only (answer.ts). Single flight in this process comes
 * first, so only the first local caller of a token asks Redis.
 */
import type { Redis } from 'ioredis';
import { type Coalescer, createLocalCoalescer, type SharedAnswer } from '../../../server/coalesce.js';
import { randomToken } from '../../../shared/encoding.js';
import { openAnswer, sealAnswer } from './answer.js';
import { KEY_PREFIX, type RedisConnection } from './connection.js';

/** How long a finished refresh answer stays for replicas that asked at the same moment. */
const ANSWER_TTL_MS = 3_000;
const POLL_MS = 20;

const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

type ReleaseCommand = { tokenSwapRelease(key: string, owner: string): Promise<number> };

export interface RedisCoalescerOptions {
  /** Upper bound of one refresh upstream, retry included: how long replicas wait for the owner. */
  refreshBudgetMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createRedisCoalescer(
  { client, report }: RedisConnection,
  options: RedisCoalescerOptions,
): Coalescer {
  client.defineCommand('tokenSwapRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
  const redis = client as Redis & ReleaseCommand;
  const local = createLocalCoalescer();

  async function sharedRun(
    id: string,
    secret: string,
    produce: () => Promise<SharedAnswer>,
    onShared: ((scope: 'local' | 'shared') => void) | undefined,
  ): Promise<SharedAnswer> {
    const lockKey = `${KEY_PREFIX}refresh:lock:${id}`;
    const answerKeyName = `${KEY_PREFIX}refresh:answer:${id}`;
    const owner = randomToken(16);
    let acquired: boolean;
    try {
      const stored = await redis.get(answerKeyName);
      const ready = stored ? await openAnswer(stored, secret, id) : undefined;
      if (ready) {
        onShared?.('shared');
        return ready;
      }
      acquired = (await redis.set(lockKey, owner, 'PX', options.refreshBudgetMs, 'NX')) === 'OK';
    } catch (error) {
      report(false, error);
      return produce();
    }

    if (acquired) {
      const answer = await produce();
      try {
        // Errors are kept shorter: a waiter should not inherit a stale outage for long.
        const ttl = answer.status < 500 ? ANSWER_TTL_MS : 1_000;
        await redis.set(answerKeyName, await sealAnswer(answer, secret, id), 'PX', ttl);
        await redis.tokenSwapRelease(lockKey, owner);
      } catch (error) {
        report(false, error);
      }
      return answer;
    }

    // Another replica is calling Spotify with this token: wait for its answer.
    const deadline = Date.now() + options.refreshBudgetMs;
    try {
      while (Date.now() < deadline) {
        await sleep(POLL_MS);
        const stored = await redis.get(answerKeyName);
        const answer = stored ? await openAnswer(stored, secret, id) : undefined;
        if (answer) {
          onShared?.('shared');
          return answer;
        }
        if ((await redis.exists(lockKey)) === 0) break;
      }
    } catch (error) {
      report(false, error);
    }
    // The owner vanished without an answer, or Redis did: ask Spotify ourselves.
    return produce();
  }

  return {
    run(key, produce, onShared) {
      return local.run(
        key,
        async () => sharedRun(await key.digest(), key.secret, produce, onShared),
        onShared,
      );
    },
  };
}
