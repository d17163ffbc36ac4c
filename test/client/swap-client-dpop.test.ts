/**
 * The swap client and the session with a DPoP key: a fresh proof on every swap, refresh and revoke,
 * for the URL each was sent to, by the login's key; a `use_dpop_nonce` refusal retried once with the
 * nonce. Against the real service and sandbox (which accept the proofs; the binding itself is the
 * service's, tested there), and a peer on a socket that demands a nonce.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDpopKey,
  createMemoryStore,
  createSession,
  createSwapClient,
  dpopThumbprint,
  SwapServiceError,
  tokenSetFromResponse,
} from '../../src/client/index.js';
import { recordingFetch, verifyProof } from '../helpers/dpop.js';
import { type Listening, listen } from '../helpers/listen.js';
import { authorize, REDIRECT_URI, type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

describe('swap client with a DPoP key, against the service', () => {
  it('sends a fresh proof by the key on swap, refresh and revoke, each for its own URL', async () => {
    const key = await createDpopKey();
    const recorder = recordingFetch();
    const at = Date.now();
    const client = createSwapClient({
      swapUrl: stack.service.url,
      dpopKey: key,
      fetch: recorder.fetch,
      now: () => at,
    });
    const { code } = await authorize(stack.accounts.url);
    const tokens = await client.swap(code, { redirectUri: REDIRECT_URI });
    const refreshed = await client.refresh(tokens.refresh_token ?? '');
    expect(refreshed.access_token).toBeTruthy();
    expect(await client.revoke(tokens.refresh_token ?? '')).toEqual({ outcome: 'revoked' });

    expect(recorder.proofs.map((sent) => new URL(sent.url).pathname)).toEqual([
      '/swap',
      '/refresh',
      '/revoke',
    ]);
    const thumbprint = await dpopThumbprint(key);
    const jtis = new Set<unknown>();
    for (const sent of recorder.proofs) {
      const { payload, header } = await verifyProof(sent.proof ?? '');
      expect(payload).toMatchObject({ htm: 'POST', htu: sent.url, iat: Math.floor(at / 1000) });
      expect(await dpopThumbprint(header.jwk as never)).toBe(thumbprint);
      jtis.add(payload.jti);
    }
    expect(jtis.size).toBe(3);
  });

  it('sends no DPoP header without a key', async () => {
    const recorder = recordingFetch();
    const client = createSwapClient({ swapUrl: stack.service.url, fetch: recorder.fetch });
    const { code } = await authorize(stack.accounts.url);
    await client.swap(code, { redirectUri: REDIRECT_URI });
    expect(recorder.proofs).toEqual([{ url: `${stack.service.url}/swap`, proof: null }]);
  });
});

describe('session with a stored DPoP key', () => {
  it("refreshes and signs out with proofs by the login's key, even through a client without one", async () => {
    const key = await createDpopKey();
    const recorder = recordingFetch();
    const client = createSwapClient({ swapUrl: stack.service.url, fetch: recorder.fetch });
    const { code } = await authorize(stack.accounts.url);
    const answer = await client.swap(code, { redirectUri: REDIRECT_URI, dpopKey: key });
    const tokens = { ...tokenSetFromResponse(answer), expiresAt: 0 };
    const store = createMemoryStore({ swapUrl: stack.service.url, tokens, dpopKey: key });
    const session = createSession({ store, client });
    expect(await session.getAccessToken()).not.toBe(tokens.accessToken);
    expect((await store.load())?.dpopKey?.publicJwk).toEqual(key.publicJwk);
    expect(await session.logout()).toEqual({ outcome: 'revoked' });

    expect(recorder.proofs.map((sent) => new URL(sent.url).pathname)).toEqual([
      '/swap',
      '/refresh',
      '/revoke',
    ]);
    for (const sent of recorder.proofs) {
      const { header } = await verifyProof(sent.proof ?? '');
      expect(header.jwk).toEqual(key.publicJwk);
    }
  });

  it('keeps refreshing a login stored without a key, with no proof', async () => {
    const recorder = recordingFetch();
    const { code } = await authorize(stack.accounts.url);
    const answer = await createSwapClient({ swapUrl: stack.service.url }).swap(code, {
      redirectUri: REDIRECT_URI,
    });
    const store = createMemoryStore({
      swapUrl: stack.service.url,
      tokens: { ...tokenSetFromResponse(answer), expiresAt: 0 },
    });
    const session = createSession({ store, fetch: recorder.fetch });
    await session.refresh();
    expect(recorder.proofs).toEqual([{ url: `${stack.service.url}/refresh`, proof: null }]);
  });
});

describe('use_dpop_nonce', () => {
  let peer: Listening;
  const seen: { nonce: unknown }[] = [];
  let demand: string[] = [];

  beforeAll(async () => {
    // A DPoP server that wants the current nonce (RFC 9449 §8): without it, 400 use_dpop_nonce.
    peer = await listen(async (request) => {
      const { payload } = await verifyProof(request.headers.get('dpop') ?? '');
      seen.push({ nonce: payload.nonce });
      const nonce = demand[0] ?? 'none';
      const headers = { 'Content-Type': 'application/json', 'DPoP-Nonce': nonce };
      if (payload.nonce !== nonce) {
        const body = { error: 'use_dpop_nonce', error_description: 'Use the DPoP-Nonce' };
        return new Response(JSON.stringify(body), { status: 400, headers });
      }
      const tokens = { access_token: 'BQx', token_type: 'Bearer', expires_in: 3600, scope: '' };
      return new Response(JSON.stringify(tokens), { status: 200, headers });
    });
  });
  afterAll(() => peer.close());

  it('retries once with the nonce the service sent, and sends it on the next call', async () => {
    seen.length = 0;
    demand = ['n-1'];
    const client = createSwapClient({ swapUrl: peer.url, dpopKey: await createDpopKey() });
    await expect(client.refresh('AQ1')).resolves.toMatchObject({ access_token: 'BQx' });
    await client.refresh('AQ2');
    expect(seen).toEqual([{ nonce: undefined }, { nonce: 'n-1' }, { nonce: 'n-1' }]);
  });

  it('does not retry a use_dpop_nonce that brought no nonce: the same proof would be refused again', async () => {
    let calls = 0;
    const bare = await listen(async () => {
      calls += 1;
      const body = { error: 'use_dpop_nonce', error_description: 'Use the DPoP-Nonce' };
      return new Response(JSON.stringify(body), {
        status: 400,
        headers: { 'Content-Type': 'application/json' },
      });
    });
    try {
      const client = createSwapClient({ swapUrl: bare.url, dpopKey: await createDpopKey() });
      await expect(client.refresh('AQ1')).rejects.toMatchObject({ error: 'use_dpop_nonce' });
      expect(calls).toBe(1);
    } finally {
      await bare.close();
    }
  });

  it('gives the refusal to the caller when a retry with the nonce is refused too', async () => {
    let counter = 0;
    const moving = await listen(async () => {
      counter += 1;
      const body = { error: 'use_dpop_nonce', error_description: 'Use the DPoP-Nonce' };
      return new Response(JSON.stringify(body), {
        status: 400,
        headers: { 'Content-Type': 'application/json', 'DPoP-Nonce': `n-${counter}` },
      });
    });
    try {
      const client = createSwapClient({ swapUrl: moving.url, dpopKey: await createDpopKey() });
      const refused = await client.refresh('AQ1').catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(SwapServiceError);
      expect(refused).toMatchObject({ error: 'use_dpop_nonce', status: 400 });
      expect(counter).toBe(2);
    } finally {
      await moving.close();
    }
  });
});
