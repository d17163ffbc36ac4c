/**
 * Refresh-token sealing: the swap service hands clients an encrypted refresh token, so a token
 * stolen from a device is useless without the service, and the service can refuse tokens it did
 * not issue before spending a call to Spotify.
 *
 * Format (version 1): `sts1.` + base64url( kid(4) || iv(12) || AES-256-GCM ciphertext+tag )
 * - AES-256-GCM with a random 96-bit IV per token (NIST SP 800-38D §8.2.2).
 * - The key is HKDF-SHA-256 over the secret (RFC 5869), so any secret of 32+ characters works.
 * - The key id and the Spotify client id are associated data: a token sealed for one app, or with one
 *   key, cannot be replayed against another, and flipping the key id breaks the tag.
 * - base64url without padding: `+ / = \n` never appear, so a client that forgets to URL-encode the
 *   token in a form body still works (the Ruby service's top support question).
 * - Several secrets: the first seals, all unseal, which lets an operator rotate without logging
 *   anybody out.
 *
 * Every failure to unseal is the same generic `invalid_grant` (as jose's one decryption message).
 */
import { base64url, fromBase64url, fromUtf8, randomBytes, utf8 } from '../shared/encoding.js';
import { invalidRefreshToken } from './errors.js';

export const SEALED_PREFIX = 'sts1.';
export const KID_BYTES = 4;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
// HKDF parameters: another implementation of the format (src/runtimes/node/sealing.ts) uses the same.
export const SALT = utf8('spotify-token-swap sealing');
export const KEY_INFO = utf8('sts1 aes-256-gcm key');
export const KEY_ID_INFO = utf8('sts1 key id');

interface SealingKey {
  kid: Uint8Array<ArrayBuffer>;
  key: CryptoKey;
}

export interface Sealer {
  /** Seals a refresh token with the first secret. */
  seal(refreshToken: string): Promise<string>;
  /** Opens a sealed token with whichever secret sealed it; throws the generic invalid_grant. */
  unseal(sealed: string): Promise<string>;
}

/** Makes the sealer of one app; runtimes with a faster cipher than WebCrypto bring their own. */
export type SealerFactory = (secrets: readonly string[], clientId: string) => Sealer;

async function deriveKey(secret: string): Promise<SealingKey> {
  const material = await crypto.subtle.importKey('raw', utf8(secret), 'HKDF', false, [
    'deriveKey',
    'deriveBits',
  ]);
  const key = await crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: SALT, info: KEY_INFO },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
  const kid = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: SALT, info: KEY_ID_INFO },
      material,
      KID_BYTES * 8,
    ),
  );
  return { kid, key };
}

/** The associated data of a token: the prefix, the key id and the client id. */
export function additionalData(kid: Uint8Array, clientId: string): Uint8Array<ArrayBuffer> {
  const prefix = utf8(SEALED_PREFIX);
  const client = utf8(clientId);
  const aad = new Uint8Array(prefix.length + kid.length + client.length);
  aad.set(prefix, 0);
  aad.set(kid, prefix.length);
  aad.set(client, prefix.length + kid.length);
  return aad;
}

/** The parts of a sealed token; `ciphertext` ends with the 16-byte GCM tag. */
export interface SealedParts<Bytes extends Uint8Array = Uint8Array<ArrayBuffer>> {
  kid: Bytes;
  iv: Bytes;
  ciphertext: Bytes;
}

/** Frames the parts as a token: `sts1.` + base64url(kid || iv || ciphertext+tag). */
export function formatSealed({ kid, iv, ciphertext }: SealedParts<Uint8Array>): string {
  const out = new Uint8Array(KID_BYTES + IV_BYTES + ciphertext.length);
  out.set(kid, 0);
  out.set(iv, KID_BYTES);
  out.set(ciphertext, KID_BYTES + IV_BYTES);
  return SEALED_PREFIX + base64url(out);
}

/** The parts of a token, or undefined for anything that is not framed as one (prefix, alphabet, length). */
export function parseSealed(sealed: string): SealedParts | undefined {
  if (!sealed.startsWith(SEALED_PREFIX)) return undefined;
  const bytes = fromBase64url(sealed.slice(SEALED_PREFIX.length));
  if (!bytes || bytes.length < KID_BYTES + IV_BYTES + TAG_BYTES + 1) return undefined;
  return {
    kid: bytes.subarray(0, KID_BYTES),
    iv: bytes.subarray(KID_BYTES, KID_BYTES + IV_BYTES),
    ciphertext: bytes.subarray(KID_BYTES + IV_BYTES),
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * Creates a sealer for one app. Keys are derived on first use and kept, so building the app stays
 * synchronous and cheap.
 */
export function createSealer(secrets: readonly string[], clientId: string): Sealer {
  if (secrets.length === 0) {
    throw new TypeError('createSealer needs at least one secret');
  }
  let keys: Promise<SealingKey[]> | undefined;
  const getKeys = () => {
    keys ??= Promise.all(secrets.map(deriveKey));
    return keys;
  };

  return {
    async seal(refreshToken) {
      const [current] = await getKeys();
      if (!current) {
        throw new TypeError('no sealing key');
      }
      const iv = randomBytes(IV_BYTES);
      const ciphertext = new Uint8Array(
        await crypto.subtle.encrypt(
          { name: 'AES-GCM', iv, additionalData: additionalData(current.kid, clientId) },
          current.key,
          utf8(refreshToken),
        ),
      );
      return formatSealed({ kid: current.kid, iv, ciphertext });
    },

    async unseal(sealed) {
      const parts = parseSealed(sealed);
      if (!parts) {
        throw invalidRefreshToken();
      }
      const { kid, iv, ciphertext } = parts;
      // Key ids are 32 bits, so two secrets can share one: try every key that claims it.
      for (const candidate of await getKeys()) {
        if (!sameBytes(candidate.kid, kid)) {
          continue;
        }
        try {
          const plain = await crypto.subtle.decrypt(
            { name: 'AES-GCM', iv, additionalData: additionalData(kid, clientId) },
            candidate.key,
            ciphertext,
          );
          return fromUtf8(new Uint8Array(plain));
        } catch {
          // Wrong key or tampered: try the next candidate, then fail generically.
        }
      }
      throw invalidRefreshToken();
    },
  };
}
