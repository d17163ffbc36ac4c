/**
 * Revocation and rotation with REDIS_URL (issue 13): kept in Redis, so they hold on every replica and
 * across a restart; and what the service does when Redis is gone (docs/sealed-tokens.md: a rotating
 * app answers 503, any other refreshes on without what the store knows). Two real services on one
 * sandbox and one real redis-server.
 */
import { describe, expect, it } from 'vitest';
import { startRedis } from './helpers/redis.js';
import { redisReplicas } from './helpers/replicas.js';
import { tokenCalls } from './helpers/sandbox-control.js';
import { login, refresh, revoke } from './helpers/tokens.js';

const replicas = redisReplicas();
const { replica } = replicas;

describe('revocations in Redis', () => {
  it('hold on every replica: revoked on one, refused on the other without a call to Spotify', async () => {
    const [a, b] = [await replica(), await replica()];
    const { refreshToken } = await login(a);
    expect((await refresh(b, refreshToken)).status).toBe(200);
    expect(await revoke(a, refreshToken)).toEqual({ status: 200, body: {} });
    const calls = await tokenCalls(replicas.accounts.url);
    expect((await refresh(b, refreshToken)).body).toMatchObject({ error: 'invalid_grant' });
    expect(await tokenCalls(replicas.accounts.url)).toBe(calls);
  });

  it('hold across a restart of the service', async () => {
    const first = await replica();
    const { refreshToken } = await login(first);
    await revoke(first, refreshToken);
    await replicas.stop(first);
    const restarted = await replica();
    expect((await refresh(restarted, refreshToken)).body).toEqual({
      error: 'invalid_grant',
      error_description: 'The login was revoked: the user must sign in again',
    });
  });

  it('are kept no longer than the login could last, and under a hash: no token in Redis', async () => {
    const stack = await replica({ REFRESH_TOKEN_MAX_AGE: '1d' });
    const { refreshToken } = await login(stack);
    await revoke(stack, refreshToken);
    const client = replicas.redis.client();
    const keys = await client.keys('token-swap:login:*');
    expect(keys.length).toBeGreaterThan(0);
    const ttls = await Promise.all(keys.map((key) => client.pttl(key)));
    // The newest record is this login's: a day at most, and not forever (-1).
    expect(Math.min(...ttls)).toBeGreaterThan(0);
    expect(Math.min(...ttls)).toBeLessThanOrEqual(86_400_000);
    for (const key of keys) expect(key).not.toContain(refreshToken.slice(5, 30));
    client.disconnect();
  });
});

describe('rotation across replicas', () => {
  it('replays the first answer to the predecessor on another replica, and detects reuse there', async () => {
    const env = { REFRESH_TOKEN_ROTATION: '1' };
    const [a, b] = [await replica(env), await replica(env)];
    const first = (await login(a)).refreshToken;
    const answered = await refresh(a, first);
    expect(answered.status).toBe(200);
    expect(await refresh(b, first)).toEqual(answered);
    const second = String(answered.body.refresh_token);
    const third = String((await refresh(b, second)).body.refresh_token);
    expect((await refresh(a, first)).body).toMatchObject({ error: 'invalid_grant' });
    expect((await refresh(b, third)).body).toMatchObject({ error: 'invalid_grant' });
  });

  it('gives two replicas refreshing one token at once one answer', async () => {
    const env = { REFRESH_TOKEN_ROTATION: '1' };
    const [a, b] = [await replica(env), await replica(env)];
    const first = (await login(a)).refreshToken;
    const answers = await Promise.all([
      refresh(a, first),
      refresh(b, first),
      refresh(a, first),
      refresh(b, first),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(new Set(answers.map((answer) => JSON.stringify(answer.body))).size).toBe(1);
  });
});

describe('when Redis is unreachable', () => {
  it('a rotating app answers 503 temporarily_unavailable; any other refreshes on; /revoke answers 503', async () => {
    const lost = await startRedis();
    const rotating = await replica({ REFRESH_TOKEN_ROTATION: '1' }, lost.url);
    const plain = await replica({}, lost.url);
    const rotatingToken = (await login(rotating)).refreshToken;
    const plainToken = (await login(plain)).refreshToken;
    await lost.kill();

    const refused = await refresh(rotating, rotatingToken);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: 'temporarily_unavailable' });
    expect((await refresh(plain, plainToken)).status).toBe(200);
    const revoked = await revoke(plain, plainToken);
    expect(revoked.status).toBe(503);
    expect(revoked.body).toMatchObject({ error: 'temporarily_unavailable' });
  });
});
