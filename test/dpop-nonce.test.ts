/**
 * DPOP_NONCE=1 (RFC 9449 §8, src/server/endpoints/dpop-nonce.ts): a proof without a nonce of the
 * service's, or with one over two minutes old or made up, is answered 400 `use_dpop_nonce` with a
 * fresh `DPoP-Nonce`, before Spotify sees the code; every answer carries a fresh nonce; and
 * openid-client's DPoP handle does the round trip on its own, as its documentation says.
 */
import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import { answer, exchangeAtToken, proof, proofKey } from './helpers/dpop.js';
import { authorize, CLIENT_ID, REDIRECT_URI, type Stack, stacksClosedAfterEach } from './helpers/stack.js';
import { testClock } from './helpers/tokens.js';

const start = stacksClosedAfterEach();

const withNonce = async (stack: Stack, nonce: string | null, nowMs?: number) =>
  proof(await proofKey(), 'POST', `${stack.service.url}/token`, { claims: { nonce }, nowMs });

describe('DPOP_NONCE=1', () => {
  it('asks for a nonce, takes the one it gave, and hands out a fresh one with every answer', async () => {
    const stack = await start({ env: { DPOP_NONCE: '1' } });
    const { code } = await authorize(stack.accounts.url);
    const asked = await exchangeAtToken(
      stack,
      await proof(await proofKey(), 'POST', `${stack.service.url}/token`),
      code,
    );
    const nonce = asked.headers.get('dpop-nonce');
    expect(await answer(asked)).toMatchObject({ status: 400, body: { error: 'use_dpop_nonce' } });
    expect(nonce).toMatch(/^\d+\.[A-Za-z0-9_-]+$/);
    const taken = await exchangeAtToken(stack, await withNonce(stack, nonce), code);
    expect(taken.status).toBe(200);
    expect(taken.headers.get('dpop-nonce')).toMatch(/^\d+\.[A-Za-z0-9_-]+$/);
  });

  it('refuses a nonce over two minutes old, or one it never gave', async () => {
    const clock = testClock();
    const stack = await start({ env: { DPOP_NONCE: '1' }, now: clock.now });
    const first = await exchangeAtToken(stack, await withNonce(stack, null, clock.now()));
    const nonce = first.headers.get('dpop-nonce') ?? '';
    clock.advance(120_000);
    const stale = await exchangeAtToken(stack, await withNonce(stack, nonce, clock.now()));
    expect(await answer(stale)).toMatchObject({ status: 400, body: { error: 'use_dpop_nonce' } });
    const [window] = nonce.split('.');
    const forged = await exchangeAtToken(
      stack,
      await withNonce(stack, `${window}.AAAAAAAAAAAAAAAAAAAAAA`, clock.now()),
    );
    expect(await answer(forged)).toMatchObject({ status: 400, body: { error: 'use_dpop_nonce' } });
  });

  it('is off by default: no DPoP-Nonce header, and a proof without a nonce is taken', async () => {
    const stack = await start();
    const taken = await exchangeAtToken(stack, await withNonce(stack, null));
    expect(taken.status).toBe(200);
    expect(taken.headers.get('dpop-nonce')).toBeNull();
  });

  it("works with openid-client's DPoP handle, which retries with the nonce on its own", async () => {
    const stack = await start({ env: { DPOP_NONCE: '1' } });
    const config = await client.discovery(new URL(stack.service.url), CLIENT_ID, undefined, client.None(), {
      algorithm: 'oauth2',
      execute: [client.allowInsecureRequests],
    });
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    const verifier = client.randomPKCECodeVerifier();
    const authorizeUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'user-read-email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const redirected = await fetch(authorizeUrl, { redirect: 'manual' });
    const callback = new URL(redirected.headers.get('location') ?? '');
    const tokens = await client.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: verifier },
      undefined,
      {
        DPoP,
      },
    );
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token ?? '', undefined, { DPoP });
    expect(refreshed.access_token).not.toBe(tokens.access_token);
  });
});
