/**
 * DPoP (RFC 9449) for the app side: a P-256 key and the proofs signed with it. A swap service that
 * supports DPoP binds the sealed refresh token to the key's thumbprint (RFC 7638) and refreshes or
 * revokes it only with a proof by the same key, so a refresh token copied off the device is useless
 * (README, "DPoP: a refresh token that works only with this app's key"). WebCrypto only: the
 * signature ECDSA gives is already the raw r||s that JWS ES256 wants (RFC 7518 §3.4), so the JWS is a
 * few lines, not a library.
 */
import { base64url, randomToken, utf8 } from '../shared/encoding.js';

/** The public half as the proof's `jwk` header carries it: the RFC 7638 members of an EC key. */
export interface DpopPublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
}

/**
 * A DPoP key: structured-cloneable (plain data and a CryptoKey), so a browser keeps it whole in
 * IndexedDB, with the private key never extractable. Only a key made `extractable` can be written out
 * (`exportDpopKey`), which is what a file store needs.
 */
export interface DpopKey {
  readonly privateKey: CryptoKey;
  readonly publicJwk: DpopPublicJwk;
}

export interface DpopProofOptions {
  /** The request's method (`htm`). */
  method: string;
  /** The request's URL; its query and fragment are left out of `htu` (RFC 9449 §4.2). */
  url: string;
  /** The latest `DPoP-Nonce` the server sent, when it asks for one (RFC 9449 §8). */
  nonce?: string | undefined;
  /** Epoch ms, for `iat`; the clock by default. */
  now?: () => number;
}

const ALGORITHM: EcKeyImportParams = { name: 'ECDSA', namedCurve: 'P-256' };

function publicJwkOf(jwk: JsonWebKey): DpopPublicJwk {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) {
    throw new TypeError('A DPoP key is an EC P-256 key');
  }
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
}

/**
 * A new key. The private key is not extractable unless asked: in a browser it never leaves
 * WebCrypto. A store that writes files must ask for `extractable: true` (a CryptoKey cannot be
 * written to a file otherwise); the file then is the secret, like the refresh token it protects.
 */
export async function createDpopKey(options: { extractable?: boolean } = {}): Promise<DpopKey> {
  const pair = await crypto.subtle.generateKey(ALGORITHM, options.extractable === true, ['sign']);
  // The public key of a pair is always extractable.
  const publicJwk = publicJwkOf(await crypto.subtle.exportKey('jwk', pair.publicKey));
  return { privateKey: pair.privateKey, publicJwk };
}

/** The private key as a JWK, for a store that writes it to a file; only for an extractable key. */
export async function exportDpopKey(key: DpopKey): Promise<JsonWebKey> {
  if (!key.privateKey.extractable) {
    throw new TypeError('This DPoP key is not extractable: keep it as it is (IndexedDB), not in a file');
  }
  const { kty, crv, x, y, d } = await crypto.subtle.exportKey('jwk', key.privateKey);
  return { kty, crv, x, y, d };
}

/** A key from a private JWK that `exportDpopKey` wrote; extractable again, so it can be saved again. */
export async function importDpopKey(jwk: JsonWebKey): Promise<DpopKey> {
  const publicJwk = publicJwkOf(jwk);
  if (typeof jwk.d !== 'string') throw new TypeError('A stored DPoP key has its private part (d)');
  const privateKey = await crypto.subtle.importKey(
    'jwk',
    { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, d: jwk.d },
    ALGORITHM,
    true,
    ['sign'],
  );
  return { privateKey, publicJwk };
}

/** The key's JWK SHA-256 thumbprint (RFC 7638 §3), what a bound token is bound to (`jkt`). */
export async function dpopThumbprint(key: DpopKey | DpopPublicJwk): Promise<string> {
  const jwk = 'publicJwk' in key ? key.publicJwk : key;
  // §3.2: the required members only, in lexicographic order, no whitespace.
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(canonical))));
}

const encodePart = (value: unknown) => base64url(utf8(JSON.stringify(value)));

/** A DPoP proof JWT for one request (RFC 9449 §4.2): fresh `jti`, this `htm` and `htu`, `iat` now. */
export async function createDpopProof(key: DpopKey, options: DpopProofOptions): Promise<string> {
  const target = new URL(options.url);
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk };
  const payload: Record<string, string | number> = {
    jti: randomToken(16),
    htm: options.method.toUpperCase(),
    htu: `${target.origin}${target.pathname}`,
    iat: Math.floor((options.now ?? Date.now)() / 1000),
  };
  if (options.nonce !== undefined) payload.nonce = options.nonce;
  const input = `${encodePart(header)}.${encodePart(payload)}`;
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, utf8(input));
  return `${input}.${base64url(new Uint8Array(signature))}`;
}
