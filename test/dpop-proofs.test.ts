/**
 * Which DPoP proofs the service refuses (RFC 9449 §4.3, src/server/endpoints/dpop.ts), over real
 * sockets: each one is answered 400 `invalid_dpop_proof` before Spotify sees the code, so the same
 * code still works with a proper proof afterwards. And the replay cache of the memory store.
 */
import { base64url, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLoginStore } from '../src/server/logins/store.js';
import { answer, exchangeAtToken, type ProofKey, proof, proofFor, proofKey } from './helpers/dpop.js';
import { authorize, type Stack, stacksClosedAfterEach } from './helpers/stack.js';
import { testClock } from './helpers/tokens.js';

const start = stacksClosedAfterEach();
let key: ProofKey;
beforeAll(async () => {
  key = await proofKey();
});

/** Refused at POST /token as invalid_dpop_proof, and the code not spent by it. */
async function expectRefused(stack: Stack, dpop: string, reason: RegExp, nowMs?: number) {
  const { code } = await authorize(stack.accounts.url);
  const refused = await answer(await exchangeAtToken(stack, dpop, code));
  expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_dpop_proof' } });
  expect(refused.body.error_description).toMatch(reason);
  expect((await exchangeAtToken(stack, await proofFor(stack, key, '/token', nowMs), code)).status).toBe(200);
}

const unsigned = (header: object, payload: object) =>
  `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.`;

describe('a DPoP proof is refused', () => {
  it('when replayed: the same jti twice', async () => {
    const stack = await start();
    const once = await proofFor(stack, key, '/token');
    expect((await exchangeAtToken(stack, once)).status).toBe(200);
    await expectRefused(stack, once, /used before/);
  });

  it('for another method or another URL; query and fragment aside, and normalised', async () => {
    const stack = await start();
    await expectRefused(stack, await proof(key, 'GET', `${stack.service.url}/token`), /htm/);
    await expectRefused(stack, await proof(key, 'POST', `${stack.service.url}/refresh`), /htu/);
    await expectRefused(stack, await proof(key, 'POST', 'https://elsewhere.example/token'), /htu/);
    const upper = `${stack.service.url.replace('http://', 'HTTP://')}/./token?x=1#f`;
    expect((await exchangeAtToken(stack, await proof(key, 'POST', upper))).status).toBe(200);
  });

  it('when its iat is over a minute old or over a few seconds ahead (the service clock injected)', async () => {
    const clock = testClock();
    const stack = await start({ now: clock.now });
    const at = (offsetMs: number) =>
      proof(key, 'POST', `${stack.service.url}/token`, { nowMs: clock.now() + offsetMs });
    await expectRefused(stack, await at(-61_000), /iat/, clock.now());
    await expectRefused(stack, await at(10_000), /iat/, clock.now());
    expect((await exchangeAtToken(stack, await at(-59_000))).status).toBe(200);
    expect((await exchangeAtToken(stack, await at(4_000))).status).toBe(200);
  });

  it('with a private key in jwk, a symmetric alg, alg none, another typ, or no jwk', async () => {
    const stack = await start();
    const htu = `${stack.service.url}/token`;
    const claims = { htm: 'POST', htu, iat: Math.floor(Date.now() / 1000) };
    const pair = await generateKeyPair('ES256', { extractable: true });
    const withPrivate = await new SignJWT({ ...claims, jti: crypto.randomUUID() })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(pair.privateKey) })
      .sign(pair.privateKey);
    await expectRefused(stack, withPrivate, /public key/);

    const secret = crypto.getRandomValues(new Uint8Array(32));
    const hs256 = await new SignJWT({ ...claims, jti: crypto.randomUUID() })
      // jose's types keep a secret out of a header; this test puts one there on purpose.
      .setProtectedHeader({
        typ: 'dpop+jwt',
        alg: 'HS256',
        jwk: { kty: 'oct', k: base64url.encode(secret) } as unknown as JWK,
      })
      .sign(secret);
    await expectRefused(stack, hs256, /alg/);

    await expectRefused(
      stack,
      unsigned({ typ: 'dpop+jwt', alg: 'none', jwk: key.jwk }, { ...claims, jti: crypto.randomUUID() }),
      /alg/,
    );
    await expectRefused(stack, await proof(key, 'POST', htu, { header: { typ: 'JWT' } }), /typ/);
    await expectRefused(stack, await proof(key, 'POST', htu, { header: { jwk: undefined } }), /public key/);
    await expectRefused(stack, await proof(key, 'POST', htu, { claims: { jti: undefined } }), /jti/);
  });

  it('signed by another key than its jwk, or not a JWT at all', async () => {
    const stack = await start();
    const other = await proofKey();
    const forged = await proof({ ...other, jwk: key.jwk }, 'POST', `${stack.service.url}/token`);
    await expectRefused(stack, forged, /not signed/);
    await expectRefused(stack, 'not-a-jwt', /not a valid/);
  });

  it('when it names the request URL but PUBLIC_URL says the public one is another', async () => {
    const stack = await start({ env: { PUBLIC_URL: 'http://localhost:8443' } });
    const { code } = await authorize(stack.accounts.url);
    expect((await exchangeAtToken(stack, await proofFor(stack, key, '/token'), code)).status).toBe(400);
    const publicProof = await proof(key, 'POST', 'http://localhost:8443/token');
    expect((await exchangeAtToken(stack, publicProof, code)).status).toBe(200);
  });
});

describe('the memory store as the replay cache', () => {
  it('records a proof key once until its end, and forgets the oldest past its bound', async () => {
    const clock = testClock();
    const store = createMemoryLoginStore({ now: clock.now, maxProofs: 2 });
    expect(await store.seenJti('a', clock.now() + 1_000)).toBe(false);
    expect(await store.seenJti('a', clock.now() + 1_000)).toBe(true);
    clock.advance(1_000);
    expect(await store.seenJti('a', clock.now() + 1_000)).toBe(false);
    await store.seenJti('b', clock.now() + 1_000);
    await store.seenJti('c', clock.now() + 1_000);
    // Bounded at two: 'a', the oldest, went first.
    expect(await store.seenJti('a', clock.now() + 1_000)).toBe(false);
    expect(await store.seenJti('c', clock.now() + 1_000)).toBe(true);
  });
});
