/**
 * DPoP proofs (RFC 9449; docs/sealed-tokens.md): a client proves that it holds a key
 * with a JWS in the `DPoP` header, and the refresh tokens handed out to it are bound to that key's
 * SHA-256 thumbprint (RFC 7638). Verification is jose's (signature, `typ`, the algorithm allowlist, a
 * public embedded `jwk`); the claims that tie a proof to this request (`htm`, `htu`, `iat`, `jti`) are
 * checked here, the `jti` against a replay cache in the login store (logins/store.ts).
 */
import { calculateJwkThumbprint, EmbeddedJWK, errors, type JWK, jwtVerify } from 'jose';
import { base64url, timingSafeEqual, utf8 } from '../../shared/encoding.js';
import { OAuthError, temporarilyUnavailable } from '../errors.js';
import type { LoginStore } from '../logins/store.js';
import type { NonceSource } from './dpop-nonce.js';

/**
 * Asymmetric algorithms only (§4.2). Each one has WebCrypto behind it on every runtime the core runs
 * on (Node 20, workerd, Deno, Bun), so jose needs nothing else for them.
 */
export const DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;

/** How old a proof may be (its `iat`), and how far ahead of this clock (a client's clock may run fast). */
export const PROOF_MAX_AGE_SECONDS = 60;
export const PROOF_MAX_FUTURE_SECONDS = 5;

/** Longer than any proof of an allowed algorithm with a 4096-bit RSA key. */
const MAX_PROOF_LENGTH = 4096;
const MAX_JTI_LENGTH = 256;
const STORE_RETRY_AFTER_SECONDS = 5;

/** What a proof is checked against: the header, and the request it came with. */
export interface ProofInput {
  header: string | undefined;
  method: string;
  url: string;
}

export function proofInput(request: Request): ProofInput {
  return { header: request.headers.get('dpop') ?? undefined, method: request.method, url: request.url };
}

/** §5: a proof that does not verify. The description never quotes the proof or a library's message. */
export const invalidProof = (description: string) => new OAuthError(400, 'invalid_dpop_proof', description);

/** Why jose refused, in this service's words. */
function joseRefusal(error: errors.JOSEError): OAuthError {
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return invalidProof(`The DPoP proof's alg must be one of ${DPOP_ALGORITHMS.join(', ')}`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return invalidProof('The DPoP proof is not signed by its jwk');
  }
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'typ') {
    return invalidProof('The DPoP proof must have typ dpop+jwt');
  }
  if (error instanceof errors.JWSInvalid && error.message.includes('"jwk"')) {
    return invalidProof('The DPoP proof must carry its public key, and only that, in jwk');
  }
  return invalidProof('The DPoP header is not a valid DPoP proof JWT');
}

/**
 * §4.3 item 9: the `htu` is compared without query and fragment, after the normalisation of RFC 3986
 * §6.2.2 and §6.2.3 that URL parsing does (case of scheme and host, default port, dot segments).
 */
function normalisedUrl(value: string): string | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * The URL a proof must name: the endpoint's public URL, PUBLIC_URL and the request's path when set,
 * else the request's own origin and path, as the metadata's issuer (endpoints/metadata.ts).
 */
export function expectedHtu(publicUrl: string | undefined, requestUrl: string): string {
  const url = new URL(requestUrl);
  return normalisedUrl(`${publicUrl ?? url.origin}${url.pathname}`) ?? url.href;
}

/** §4.3 items 8 to 11: the claims that tie a proof to this request and this moment. */
function checkClaims(
  payload: Record<string, unknown>,
  input: ProofInput,
  expected: string,
  nowSeconds: number,
): { iat: number; jti: string } {
  const { htm, htu, iat, jti } = payload;
  if (htm !== input.method) throw invalidProof(`The DPoP proof's htm must be ${input.method}`);
  if (typeof htu !== 'string' || normalisedUrl(htu) !== expected) {
    throw invalidProof(`The DPoP proof's htu must be ${expected}`);
  }
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalidProof('The DPoP proof needs an iat');
  if (nowSeconds - iat > PROOF_MAX_AGE_SECONDS || iat - nowSeconds > PROOF_MAX_FUTURE_SECONDS) {
    throw invalidProof(
      `The DPoP proof's iat is over ${PROOF_MAX_AGE_SECONDS} s old or over ${PROOF_MAX_FUTURE_SECONDS} s ahead of this server's clock: sign a new one`,
    );
  }
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
    throw invalidProof(`The DPoP proof needs a jti of 1 to ${MAX_JTI_LENGTH} characters`);
  }
  return { iat, jti };
}

export interface DpopVerifier {
  /** Whether proofs can be checked here: only with a login store to keep the replay cache. */
  readonly available: boolean;
  /** The thumbprint of the proof's key; undefined without a `DPoP` header; throws invalid_dpop_proof. */
  verify(input: ProofInput): Promise<string | undefined>;
}

export function createDpopVerifier(options: {
  publicUrl: string | undefined;
  store: LoginStore | undefined;
  now: () => number;
  /** With DPOP_NONCE: the `nonce` claim is checked (before the jti is spent). */
  nonces?: NonceSource | undefined;
}): DpopVerifier {
  const { publicUrl, store, now, nonces } = options;

  async function claimsOf(header: string) {
    if (header.length > MAX_PROOF_LENGTH) throw invalidProof('The DPoP proof is too long');
    try {
      return await jwtVerify(header, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: [...DPOP_ALGORITHMS],
        currentDate: new Date(now()),
      });
    } catch (error) {
      if (error instanceof errors.JOSEError) throw joseRefusal(error);
      throw error;
    }
  }

  /** §11.1: a `jti` seen within the window is a replayed proof; the cache keeps a hash, not the jti. */
  async function checkFresh(replays: LoginStore, jkt: string, jti: string, iat: number): Promise<void> {
    const digest = await crypto.subtle.digest('SHA-256', utf8(`${jkt}\n${jti}`));
    // The proof is accepted until its iat is too old: the cache must remember it that long.
    const untilMs = (iat + PROOF_MAX_AGE_SECONDS + 1) * 1000;
    let seen: boolean;
    try {
      seen = await replays.seenJti(base64url(new Uint8Array(digest)), untilMs);
    } catch {
      // Unchecked, a proof could be a replay: refused, as a rotating app refuses without its store.
      throw temporarilyUnavailable('DPoP proofs cannot be checked right now', STORE_RETRY_AFTER_SECONDS);
    }
    if (seen) {
      throw invalidProof('This DPoP proof was used before: sign a new one (a new jti) for each request');
    }
  }

  return {
    available: store !== undefined,
    async verify(input) {
      if (input.header === undefined) return undefined;
      if (!store) {
        throw invalidProof(
          'This deployment keeps no replay cache (no login store), so it cannot check DPoP proofs: see docs/sealed-tokens.md',
        );
      }
      const { payload, protectedHeader } = await claimsOf(input.header);
      const { iat, jti } = checkClaims(payload, input, expectedHtu(publicUrl, input.url), now() / 1000);
      const jkt = await calculateJwkThumbprint(protectedHeader.jwk as JWK, 'sha256');
      await nonces?.check(payload.nonce);
      await checkFresh(store, jkt, jti, iat);
      return jkt;
    },
  };
}

/**
 * §5: a bound refresh token is used with a proof by its key only. Another key's proof is a good proof
 * for the wrong token, so `invalid_grant` (RFC 6749 §5.2: issued to another client), as is no proof. A
 * proof with an unbound token leaves it unbound: binding happens at issuance, and binding later would
 * let whoever copied an unbound token lock its owner out.
 */
export async function bindingRefusal(
  bound: string | undefined,
  presented: string | undefined,
): Promise<OAuthError | undefined> {
  if (bound === undefined) return undefined;
  if (presented === undefined) {
    return new OAuthError(
      400,
      'invalid_grant',
      'This refresh token is bound to a DPoP key: send a DPoP proof signed by it',
    );
  }
  if (!(await timingSafeEqual(presented, bound))) {
    return new OAuthError(400, 'invalid_grant', 'This refresh token is bound to another DPoP key');
  }
  return undefined;
}
