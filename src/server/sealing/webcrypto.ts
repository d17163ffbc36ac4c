/** The sealing format (format.ts) on WebCrypto: what every runtime has. */
import { utf8 } from '../../shared/encoding.js';
import {
  type CipherKey,
  KEY_ID_INFO,
  KEY_INFO,
  KID_BYTES,
  SALT,
  type SealBinding,
  type Sealer,
  sealerFrom,
} from './format.js';

/**
 * A key derived from a secret. WebCrypto's derivation is asynchronous, so it runs on first use and is
 * kept, which keeps building the app synchronous and cheap; the key id needs it too, so the first use
 * of each key waits for both.
 */
async function derive(secret: string): Promise<{ kid: Uint8Array; key: CryptoKey }> {
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

const bytes = (view: Uint8Array) => view as Uint8Array<ArrayBuffer>;

export function createSealer(secrets: readonly string[], binding: SealBinding): Sealer {
  if (secrets.length === 0) throw new TypeError('createSealer needs at least one secret');
  let derived: Promise<{ kid: Uint8Array; key: CryptoKey }[]> | undefined;
  const keysReady = () => (derived ??= Promise.all(secrets.map(derive)));
  let sealer: Promise<Sealer> | undefined;
  const ready = () =>
    (sealer ??= keysReady().then((keys) =>
      sealerFrom(
        keys.map(
          ({ kid, key }): CipherKey => ({
            kid,
            async encrypt(iv, additionalData, plaintext) {
              const params = { name: 'AES-GCM', iv: bytes(iv), additionalData: bytes(additionalData) };
              return new Uint8Array(await crypto.subtle.encrypt(params, key, bytes(plaintext)));
            },
            async decrypt(iv, additionalData, ciphertext) {
              const params = { name: 'AES-GCM', iv: bytes(iv), additionalData: bytes(additionalData) };
              return new Uint8Array(await crypto.subtle.decrypt(params, key, bytes(ciphertext)));
            },
          }),
        ),
        binding,
      ),
    ));
  return {
    seal: async (grant) => (await ready()).seal(grant),
    unseal: async (sealed) => (await ready()).unseal(sealed),
    keyIds: async () => (await ready()).keyIds(),
  };
}
