/**
 * The replay cache of DPoP proofs in Redis (src/runtimes/node/redis/login-store.ts): two replicas
 * behind one PUBLIC_URL share it, so a proof one accepted is a replay at the other, also when both
 * get it at the same moment (SET NX: exactly one wins); without Redis, no proof is accepted unchecked. A real redis-server, a real sandbox.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../src/sandbox/index.js';
import { answer, exchangeAtToken, proof, proofKey } from './helpers/dpop.js';
import { type Listening, listen } from './helpers/listen.js';
import { type RedisProcess, startRedis } from './helpers/redis.js';
import { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, type Stack, startStack } from './helpers/stack.js';

const PUBLIC_URL = 'http://localhost:8443';

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

async function replica(url = redis.url): Promise<Stack> {
  const stack = await startStack({
    env: { REDIS_URL: url, PUBLIC_URL },
    accounts: { sandbox, listening: accounts },
  });
  open.push(stack);
  return stack;
}

describe('the DPoP replay cache in Redis', () => {
  it('is shared: a proof accepted by one replica is a replay at the other', async () => {
    const [a, b] = [await replica(), await replica()];
    const key = await proofKey();
    const once = await proof(key, 'POST', `${PUBLIC_URL}/token`);
    expect((await exchangeAtToken(a, once)).status).toBe(200);
    expect(await answer(await exchangeAtToken(b, once))).toMatchObject({
      status: 400,
      body: { error: 'invalid_dpop_proof' },
    });
  });

  it('lets exactly one of two replicas accept the same proof sent to both at once', async () => {
    const [a, b] = [await replica(), await replica()];
    const key = await proofKey();
    const once = await proof(key, 'POST', `${PUBLIC_URL}/token`);
    const statuses = await Promise.all(
      [exchangeAtToken(a, once), exchangeAtToken(b, once)].map(async (r) => (await r).status),
    );
    expect(statuses.sort()).toEqual([200, 400]);
  });

  it('refuses a proof it cannot check while Redis is unreachable: 503 with Retry-After, never a replay let through', async () => {
    const lost = await startRedis();
    const stack = await replica(lost.url);
    await lost.kill();
    const key = await proofKey();
    const refused = await exchangeAtToken(stack, await proof(key, 'POST', `${PUBLIC_URL}/token`));
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await answer(refused)).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' } });
  });
});
