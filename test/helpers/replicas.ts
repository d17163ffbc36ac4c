/**
 * Replicas of the service on one real redis-server and one sandbox, for the tests of what Redis shares
 * between them (revocations, rotations, the DPoP replay cache). Call at a test file's top level: it
 * registers the hooks that start the sandbox and Redis once, and close every replica after each test.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { type Listening, listen } from './listen.js';
import { type RedisProcess, startRedis } from './redis.js';
import { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, type Stack, startStack } from './stack.js';

export interface Replicas {
  readonly accounts: Listening;
  readonly redis: RedisProcess;
  /** A service on `redisUrl` (default: the shared Redis), closed after the test. */
  replica(env?: Record<string, string>, redisUrl?: string): Promise<Stack>;
  /** Closes one replica now, e.g. to restart the service within a test. */
  stop(stack: Stack): Promise<void>;
}

export function redisReplicas(): Replicas {
  let sandbox: Sandbox;
  let accounts: Listening;
  let redis: RedisProcess;
  const open: Stack[] = [];

  beforeAll(async () => {
    sandbox = createSandbox({
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
      autoApprove: true,
    });
    accounts = await listen(sandbox.app.fetch);
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((stack) => stack.close()));
  });
  afterAll(async () => {
    await accounts.close();
    await redis.kill();
  });

  return {
    get accounts() {
      return accounts;
    },
    get redis() {
      return redis;
    },
    async replica(env = {}, redisUrl = redis.url) {
      const stack = await startStack({
        env: { REDIS_URL: redisUrl, ...env },
        accounts: { sandbox, listening: accounts },
      });
      open.push(stack);
      return stack;
    },
    async stop(stack) {
      open.splice(open.indexOf(stack), 1);
      await stack.close();
    },
  };
}
