/**
 * DPoP-bound refresh tokens (RFC 9449, src/server/endpoints/dpop.ts) over real sockets: a code
 * exchange with a proof binds the login's refresh tokens to the proof's key, at POST /token and at
 * /swap; a bound token refreshes and revokes with a proof by that key only; rotation keeps the
 * binding; an unbound token stays unbound; DPOP=required; what the metadata announces.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/server/app.js';
import { loadConfig } from '../src/server/config/index.js';
import { answer, exchangeAtToken, proof, proofFor, proofKey, refreshAtToken } from './helpers/dpop.js';
import { metric } from './helpers/metrics.js';
import {
  authorize,
  CLIENT_ID,
  CLIENT_SECRET,
  postForm,
  REDIRECT_URI,
  SECRET_A,
  stacksClosedAfterEach,
  UNSEALED,
} from './helpers/stack.js';
import { startStorelessService } from './helpers/storeless-service.js';

const start = stacksClosedAfterEach();

describe('a code exchange with a DPoP proof', () => {
  it('at POST /token binds the refresh token: the same key refreshes, no proof or another key is invalid_grant', async () => {
    const stack = await start();
    const key = await proofKey();
    const issued = await answer(await exchangeAtToken(stack, await proofFor(stack, key, '/token')));
    expect(issued.status).toBe(200);
    // RFC 9449 §5: only the refresh token is bound; Spotify's access token stays a Bearer token.
    expect(issued.body.token_type).toBe('Bearer');
    const token = issued.body.refresh_token as string;

    expect(await answer(await refreshAtToken(stack, token))).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    const other = await proofKey();
    expect(
      await answer(await refreshAtToken(stack, token, await proofFor(stack, other, '/token'))),
    ).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // Each counted, and logged as worth a look: a copied token, or a client that lost its key.
    expect(await metric(stack, 'token_swap_refresh_refused_total', { reason: 'dpop' })).toBe(2);
    expect(stack.logs.filter((line) => String(line.msg).includes('DPoP-bound'))).toHaveLength(2);
    const dpop = await proofFor(stack, key, '/token');
    const refreshed = await answer(await refreshAtToken(stack, token, dpop));
    expect(refreshed).toMatchObject({ status: 200, body: { token_type: 'Bearer' } });
    // A proof is good for one request within its minute: never in a log line.
    expect(stack.rawLogs()).not.toContain(dpop.split('.')[2]);
  });

  it('at /swap binds it too, and /refresh checks the binding', async () => {
    const stack = await start();
    const key = await proofKey('EdDSA');
    const { code } = await authorize(stack.accounts.url);
    const swapped = await answer(
      await postForm(`${stack.service.url}/swap`, { code }, { DPoP: await proofFor(stack, key, '/swap') }),
    );
    expect(swapped.status).toBe(200);
    const token = swapped.body.refresh_token as string;
    const refreshUrl = `${stack.service.url}/refresh`;
    expect((await postForm(refreshUrl, { refresh_token: token })).status).toBe(400);
    const ok = await postForm(
      refreshUrl,
      { refresh_token: token },
      { DPoP: await proofFor(stack, key, '/refresh') },
    );
    expect(ok.status).toBe(200);
  });

  it('keeps the binding in every rotated token', async () => {
    const stack = await start({ env: { REFRESH_TOKEN_ROTATION: 'true' } });
    const key = await proofKey();
    const issued = await answer(await exchangeAtToken(stack, await proofFor(stack, key, '/token')));
    const rotated = await answer(
      await refreshAtToken(stack, issued.body.refresh_token as string, await proofFor(stack, key, '/token')),
    );
    const next = rotated.body.refresh_token as string;
    expect(next).not.toBe(issued.body.refresh_token);
    expect((await refreshAtToken(stack, next)).status).toBe(400);
    expect((await refreshAtToken(stack, next, await proofFor(stack, key, '/token'))).status).toBe(200);
  });
});

describe('an unbound refresh token', () => {
  it('stays unbound when presented with a proof: binding happens at issuance only', async () => {
    const stack = await start();
    const token = (await answer(await exchangeAtToken(stack))).body.refresh_token as string;
    const key = await proofKey();
    expect((await refreshAtToken(stack, token, await proofFor(stack, key, '/token'))).status).toBe(200);
    expect((await refreshAtToken(stack, token)).status).toBe(200);
  });
});

describe('revoking a bound token', () => {
  it('needs a proof by its key: without one nothing is revoked', async () => {
    const stack = await start();
    const key = await proofKey();
    const token = (await answer(await exchangeAtToken(stack, await proofFor(stack, key, '/token')))).body
      .refresh_token as string;
    const revokeUrl = `${stack.service.url}/revoke`;
    expect(await answer(await postForm(revokeUrl, { token }))).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    expect((await refreshAtToken(stack, token, await proofFor(stack, key, '/token'))).status).toBe(200);
    const revoked = await postForm(revokeUrl, { token }, { DPoP: await proofFor(stack, key, '/revoke') });
    expect(revoked.status).toBe(200);
    expect(
      await answer(await refreshAtToken(stack, token, await proofFor(stack, key, '/token'))),
    ).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
  });
});

describe('DPOP=required', () => {
  it('refuses a code exchange without a proof as invalid_dpop_proof, before Spotify sees the code', async () => {
    const stack = await start({ env: { DPOP: 'required' } });
    const { code } = await authorize(stack.accounts.url);
    expect(await answer(await exchangeAtToken(stack, undefined, code))).toMatchObject({
      status: 400,
      body: { error: 'invalid_dpop_proof' },
    });
    const key = await proofKey();
    // The code was not spent: the same one works with a proof.
    expect((await exchangeAtToken(stack, await proofFor(stack, key, '/token'), code)).status).toBe(200);
  });

  it('does not load for an app that hands out unsealed tokens', async () => {
    await expect(start({ env: { ...UNSEALED, DPOP: 'required' } })).rejects.toThrow(/DPOP/);
  });
});

describe('the metadata', () => {
  it('announces the DPoP algorithms where tokens can be bound, and not for an unsealed app', async () => {
    const sealed = await start();
    const metadata = `${sealed.service.url}/.well-known/oauth-authorization-server`;
    expect((await answer(await fetch(metadata))).body.dpop_signing_alg_values_supported).toEqual([
      'ES256',
      'EdDSA',
      'RS256',
      'PS256',
    ]);
    const unsealed = await start({ env: UNSEALED });
    const plain = (
      await answer(await fetch(`${unsealed.service.url}/.well-known/oauth-authorization-server`))
    ).body;
    expect(plain).not.toHaveProperty('dpop_signing_alg_values_supported');
  });

  it('is what an unsealed app answers a proof with: invalid_dpop_proof, not a silent Bearer token', async () => {
    const stack = await start({ env: UNSEALED });
    const key = await proofKey();
    expect(await answer(await exchangeAtToken(stack, await proofFor(stack, key, '/token')))).toMatchObject({
      status: 400,
      body: { error: 'invalid_dpop_proof' },
    });
  });
});

describe('a runtime without a login store (no replay cache)', () => {
  it('refuses a proof rather than hand out a token the client believes bound, and announces no DPoP', async () => {
    const storeless = await startStorelessService();
    try {
      const { code } = await authorize(storeless.accountsUrl);
      const key = await proofKey();
      const refused = await postForm(
        `${storeless.url}/swap`,
        { code },
        { DPoP: await proof(key, 'POST', `${storeless.url}/swap`) },
      );
      expect(await answer(refused)).toMatchObject({ status: 400, body: { error: 'invalid_dpop_proof' } });
      // Without a proof the same code still swaps: nothing was spent.
      expect((await postForm(`${storeless.url}/swap`, { code })).status).toBe(200);
      const metadata = await answer(await fetch(`${storeless.url}/.well-known/oauth-authorization-server`));
      expect(metadata.body).not.toHaveProperty('dpop_signing_alg_values_supported');
    } finally {
      await storeless.close();
    }
  });

  it('does not start with DPOP=required, naming the variable', () => {
    const config = loadConfig({
      SPOTIFY_CLIENT_ID: CLIENT_ID,
      SPOTIFY_CLIENT_SECRET: CLIENT_SECRET,
      SPOTIFY_REDIRECT_URI: REDIRECT_URI,
      ENCRYPTION_SECRET: SECRET_A,
      DPOP: 'required',
    });
    expect(() => createApp(config)).toThrow(/DPOP/);
  });
});
