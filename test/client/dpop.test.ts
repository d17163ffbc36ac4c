/**
 * The kit's DPoP keys and proofs (RFC 9449 §4.2), verified with jose (panva) to prove they are the
 * standard's and not only our own reading of it.
 */
import { calculateJwkThumbprint, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  createDpopKey,
  createDpopProof,
  dpopThumbprint,
  exportDpopKey,
  importDpopKey,
} from '../../src/client/index.js';
import { verifyProof } from '../helpers/dpop.js';

describe('DPoP proofs', () => {
  it('are ES256 JWTs that jose verifies with the embedded public key, with htm, htu, iat and jti', async () => {
    const key = await createDpopKey();
    const at = Date.UTC(2026, 11, 1, 12, 0, 0, 500);
    const proof = await createDpopProof(key, {
      method: 'post',
      url: 'https://swap.example.com/apps/one/refresh?x=1#frag',
      now: () => at,
    });
    const { payload, header } = await verifyProof(proof);
    expect(header).toEqual({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk });
    expect(payload).toEqual({
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      htm: 'POST',
      htu: 'https://swap.example.com/apps/one/refresh',
      iat: Math.floor(at / 1000),
    });
  });

  it('carry a fresh jti each, and the nonce when given', async () => {
    const key = await createDpopKey();
    const url = 'http://127.0.0.1:3000/revoke';
    const a = await verifyProof(await createDpopProof(key, { method: 'POST', url }));
    const b = await verifyProof(await createDpopProof(key, { method: 'POST', url, nonce: 'n-1' }));
    expect(a.payload.jti).not.toBe(b.payload.jti);
    expect(a.payload).not.toHaveProperty('nonce');
    expect(b.payload.nonce).toBe('n-1');
  });

  it('put the public key only in the header, never the private part', async () => {
    const key = await createDpopKey({ extractable: true });
    const proof = await createDpopProof(key, { method: 'POST', url: 'http://127.0.0.1/swap' });
    const header = decodeProtectedHeader(proof);
    expect(Object.keys(header.jwk ?? {}).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    expect(proof).not.toContain((await exportDpopKey(key)).d);
  });
});

describe('DPoP keys', () => {
  it("have the RFC 7638 thumbprint that jose computes (what a bound token's jkt is)", async () => {
    const key = await createDpopKey();
    expect(await dpopThumbprint(key)).toBe(await calculateJwkThumbprint(key.publicJwk, 'sha256'));
    expect(await dpopThumbprint(key.publicJwk)).toBe(await dpopThumbprint(key));
  });

  it('keep the private key non-extractable by default, and refuse to export it', async () => {
    const key = await createDpopKey();
    expect(key.privateKey.extractable).toBe(false);
    await expect(exportDpopKey(key)).rejects.toThrow(/not extractable/);
  });

  it('survive an export and import: the same key signs, with the same thumbprint', async () => {
    const key = await createDpopKey({ extractable: true });
    const jwk = await exportDpopKey(key);
    const again = await importDpopKey(JSON.parse(JSON.stringify(jwk)));
    expect(again.publicJwk).toEqual(key.publicJwk);
    const proof = await createDpopProof(again, { method: 'POST', url: 'http://127.0.0.1/refresh' });
    const { header } = await verifyProof(proof);
    expect(await calculateJwkThumbprint(header.jwk ?? {}, 'sha256')).toBe(await dpopThumbprint(key));
  });

  it('refuse to import anything but a private P-256 key', async () => {
    const key = await createDpopKey({ extractable: true });
    const { d: _, ...publicOnly } = await exportDpopKey(key);
    await expect(importDpopKey(publicOnly)).rejects.toThrow(/private part/);
    await expect(importDpopKey({ kty: 'RSA', n: 'x', e: 'AQAB', d: 'x' })).rejects.toThrow(/P-256/);
  });
});
