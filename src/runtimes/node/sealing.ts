/**
 * The sealing format of src/server/sealing/format.ts with node:crypto. Tokens are the same bytes
 * either way (the tests seal with one and open with the other); on Node a seal or an open costs about
 * a third of the CPU time WebCrypto takes, which runs each call as a job on libuv's thread pool and
 * hands the result back through a promise.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import {
  type CipherKey,
  KEY_ID_INFO,
  KEY_INFO,
  KID_BYTES,
  SALT,
  type SealBinding,
  type Sealer,
  sealerFrom,
  TAG_BYTES,
} from '../../server/sealing/index.js';

function deriveKey(secret: string): CipherKey {
  const material = Buffer.from(secret, 'utf8');
  const key = Buffer.from(hkdfSync('sha256', material, SALT, KEY_INFO, 32));
  const kid = new Uint8Array(hkdfSync('sha256', material, SALT, KEY_ID_INFO, KID_BYTES));
  return {
    kid,
    async encrypt(iv, aad, plaintext) {
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad);
      return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    },
    async decrypt(iv, aad, ciphertext) {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad);
      decipher.setAuthTag(ciphertext.subarray(-TAG_BYTES));
      return Buffer.concat([decipher.update(ciphertext.subarray(0, -TAG_BYTES)), decipher.final()]);
    },
  };
}

export function createNodeSealer(secrets: readonly string[], binding: SealBinding): Sealer {
  if (secrets.length === 0) throw new TypeError('createNodeSealer needs at least one secret');
  return sealerFrom(secrets.map(deriveKey), binding);
}
