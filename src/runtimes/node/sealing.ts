/**
 * The `sts1.` sealing format of src/server/sealing.ts, done with node:crypto. Tokens are the same
 * bytes either way (the tests seal with one and open with the other); on Node a seal or an open of a
 * refresh token costs about a third of the CPU time WebCrypto takes, which runs each call as a job on
 * libuv's thread pool and hands the result back through a promise.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { invalidRefreshToken } from '../../server/errors.js';
import {
  additionalData,
  formatSealed,
  IV_BYTES,
  KEY_ID_INFO,
  KEY_INFO,
  KID_BYTES,
  parseSealed,
  SALT,
  type Sealer,
  TAG_BYTES,
} from '../../server/sealing.js';

interface SealingKey {
  kid: Buffer;
  key: Buffer;
  /** The associated data, the same for every token this key seals. */
  aad: Uint8Array;
}

function deriveKey(secret: string, clientId: string): SealingKey {
  const material = Buffer.from(secret, 'utf8');
  const key = Buffer.from(hkdfSync('sha256', material, SALT, KEY_INFO, 32));
  const kid = Buffer.from(hkdfSync('sha256', material, SALT, KEY_ID_INFO, KID_BYTES));
  return { kid, key, aad: additionalData(kid, clientId) };
}

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
      const ciphertext = Buffer.concat([
        cipher.update(refreshToken, 'utf8'),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return formatSealed({ kid: current.kid, iv, ciphertext });
    },

    async unseal(sealed) {
      // The framing is the format's own (src/server/sealing.ts); only the cipher differs.
      const parts = parseSealed(sealed);
      if (!parts) {
        throw invalidRefreshToken();
      }
      const { kid, iv } = parts;
      const ciphertext = parts.ciphertext.subarray(0, -TAG_BYTES);
      const tag = parts.ciphertext.subarray(-TAG_BYTES);
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
