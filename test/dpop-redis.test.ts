/**
 * The replay cache of DPoP proofs in Redis (src/runtimes/node/redis/login-store.ts): two replicas
 * behind one PUBLIC_URL share it, so a proof one accepted is a replay at the other, also when both
 * get it at the same moment (SET NX: exactly one wins); without Redis, no proof is accepted unchecked. A real redis-server, a real sandbox.
 */
import { describe, expect, it } from 'vitest';
import { answer, exchangeAtToken, proof, proofKey } from './helpers/dpop.js';
import { startRedis } from './helpers/redis.js';
import { redisReplicas } from './helpers/replicas.js';

const PUBLIC_URL = 'http://localhost:8443';

const replicas = redisReplicas();
const replica = (url?: string) => replicas.replica({ PUBLIC_URL }, url);

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
