/**
 * The `sts1.` sealing format of src/server/sealing.ts, done with node:crypto. Tokens are the same
 * bytes either way (the tests seal with one and open with the other); on Node a seal or an open of a
 * refresh token costs about a third of the CPU time WebCrypto takes, which runs each call as a job on
 * libuv's thread pool and hands the result back through a promise.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { invalidRefreshToken } from '../../server/errors.js';
import {
  IV_BYTES,
  KEY_ID_INFO,
  KEY_INFO,
  KID_BYTES,
  SALT,
  SEALED_PREFIX,
  type Sealer,
  TAG_BYTES,
} from '../../server/sealing.js';

interface SealingKey {
  kid: Buffer;
  key: Buffer;
  /** The associated data: prefix, key id and client id (see src/server/sealing.ts). */
  aad: Buffer;
}

function deriveKey(secret: string, clientId: string): SealingKey {
  const material = Buffer.from(secret, 'utf8');
  const key = Buffer.from(hkdfSync('sha256', material, SALT, KEY_INFO, 32));
  const kid = Buffer.from(hkdfSync('sha256', material, SALT, KEY_ID_INFO, KID_BYTES));
  return { kid, key, aad: Buffer.concat([Buffer.from(SEALED_PREFIX), kid, Buffer.from(clientId, 'utf8')]) };
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

export function createNodeSealer(secrets: readonly string[], clientId: string): Sealer {
  if (secrets.length === 0) {
    throw new TypeError('createNodeSealer needs at least one secret');
  }
  const keys = secrets.map((secret) => deriveKey(secret, clientId));
  const [current] = keys as [SealingKey];

  return {
    async seal(refreshToken) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(current.aad);
      const ciphertext = Buffer.concat([cipher.update(refreshToken, 'utf8'), cipher.final()]);
      const out = Buffer.concat([current.kid, iv, ciphertext, cipher.getAuthTag()]);
      return SEALED_PREFIX + out.toString('base64url');
    },

    async unseal(sealed) {
      const encoded = sealed.startsWith(SEALED_PREFIX) ? sealed.slice(SEALED_PREFIX.length) : undefined;
      // Node's base64url decoder skips what it does not know; the format allows nothing of the sort.
      if (encoded === undefined || !BASE64URL.test(encoded) || encoded.length % 4 === 1) {
        throw invalidRefreshToken();
      }
      const bytes = Buffer.from(encoded, 'base64url');
      if (bytes.length < KID_BYTES + IV_BYTES + TAG_BYTES + 1) {
        throw invalidRefreshToken();
      }
      const kid = bytes.subarray(0, KID_BYTES);
      const iv = bytes.subarray(KID_BYTES, KID_BYTES + IV_BYTES);
      const ciphertext = bytes.subarray(KID_BYTES + IV_BYTES, bytes.length - TAG_BYTES);
      const tag = bytes.subarray(bytes.length - TAG_BYTES);
      // Key ids are 32 bits, so two secrets can share one: try every key that claims it.
      for (const candidate of keys) {
        if (!candidate.kid.equals(kid)) continue;
        try {
          const decipher = createDecipheriv('aes-256-gcm', candidate.key, iv, { authTagLength: TAG_BYTES });
          decipher.setAAD(candidate.aad);
          decipher.setAuthTag(tag);
          const plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
          return plain.toString('utf8');
        } catch {
          // Wrong key or tampered: try the next candidate, then fail generically.
        }
      }
      throw invalidRefreshToken();
    },
  };
}
