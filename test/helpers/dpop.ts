/**
 * DPoP (RFC 9449) in the tests, both ways, with jose (panva) rather than our own reading: proofs made
 * as §4.2 says a client makes them, for the tests of the service's binding (test/dpop*.test.ts;
 * `claims` and `header` override what a proper proof holds, so a test can make every kind of wrong
 * one), and proofs checked as a DPoP server does, for the tests of the client kit's.
 */
import { EmbeddedJWK, exportJWK, generateKeyPair, type JWK, jwtVerify, SignJWT } from 'jose';
import { authorize, CLIENT_ID, postForm, REDIRECT_URI, type Stack } from './stack.js';

export interface ProofKey {
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

export async function proofKey(alg = 'ES256'): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, privateKey, jwk: await exportJWK(publicKey) };
}

export function proof(
  key: ProofKey,
  htm: string,
  htu: string,
  options: { claims?: Record<string, unknown>; header?: Record<string, unknown>; nowMs?: number } = {},
): Promise<string> {
  const iat = Math.floor((options.nowMs ?? Date.now()) / 1000);
  return new SignJWT({ htm, htu, iat, jti: crypto.randomUUID(), ...options.claims })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk, ...options.header })
    .sign(key.privateKey);
}

/** A proof for `POST {stack}{path}`. */
export const proofFor = (stack: Stack, key: ProofKey, path: string, nowMs?: number) =>
  proof(key, 'POST', `${stack.service.url}${path}`, { nowMs });

/** A code exchange at POST /token, with a DPoP header when `dpop` is given. */
export async function exchangeAtToken(stack: Stack, dpop?: string, code?: string) {
  const fields = {
    grant_type: 'authorization_code',
    code: code ?? (await authorize(stack.accounts.url)).code,
    redirect_uri: REDIRECT_URI,
    client_id: CLIENT_ID,
  };
  return postForm(`${stack.service.url}/token`, fields, dpop === undefined ? {} : { DPoP: dpop });
}

export function refreshAtToken(stack: Stack, refreshToken: string, dpop?: string) {
  return postForm(
    `${stack.service.url}/token`,
    { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT_ID },
    dpop === undefined ? {} : { DPoP: dpop },
  );
}

export async function answer(response: Response) {
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Verifies a proof: the key from its own header, ES256 only, `typ` dpop+jwt (RFC 9449 §4.3). */
export async function verifyProof(proof: string) {
  const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
    typ: 'dpop+jwt',
    algorithms: ['ES256'],
  });
  return { payload, header: protectedHeader };
}

/** A fetch that records the DPoP header of every request it sends on. */
export function recordingFetch(): { fetch: typeof fetch; proofs: { url: string; proof: string | null }[] } {
  const proofs: { url: string; proof: string | null }[] = [];
  return {
    proofs,
    fetch: (input, init) => {
      const headers = new Headers(init?.headers);
      proofs.push({ url: String(input), proof: headers.get('dpop') });
      return fetch(input, init);
    },
  };
}
