/**
 * Opens refresh tokens sealed by the Ruby spotify-token-swap-service, so its users can move here
 * without logging anybody out (docs/migrating-from-the-ruby-service.md). That service used the encrypted_strings gem:
 * DES-EDE3-CBC, key and IV from the passphrase by OpenSSL's EVP_BytesToKey (MD5, no salt, 2048
 * iterations: Ruby's `pkcs5_keyivgen` defaults), Base64 with a newline every 60 characters.
 *
 * Node-only: WebCrypto has neither 3DES nor MD5, which is as it should be. This opens old tokens;
 * it never seals new ones.
 */
import { createDecipheriv, createHash } from 'node:crypto';

const KEY_BYTES = 24;
const IV_BYTES = 8;
const ITERATIONS = 2048;

/** OpenSSL's EVP_BytesToKey(MD5, salt = none, count) for a 3DES key and IV. */
export function evpBytesToKey(password: string, count = ITERATIONS): { key: Buffer; iv: Buffer } {
  const pass = Buffer.from(password, 'utf8');
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  while (Buffer.concat(blocks).length < KEY_BYTES + IV_BYTES) {
    let digest = createHash('md5').update(previous).update(pass).digest();
    for (let i = 1; i < count; i++) {
      digest = createHash('md5').update(digest).digest();
    }
    blocks.push(digest);
    previous = digest;
  }
  const material = Buffer.concat(blocks);
  return { key: material.subarray(0, KEY_BYTES), iv: material.subarray(KEY_BYTES, KEY_BYTES + IV_BYTES) };
}

/**
 * Undoes what clients and form encoding did to the Base64 text: a `+` sent unencoded in a form body
 * arrives as a space, and the newlines of Ruby's pack('m') may or may not have survived.
 */
function normalize(token: string): Buffer | undefined {
  const text = token.replace(/ /g, '+').replace(/[\r\n\t]/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) {
    return undefined;
  }
  const bytes = Buffer.from(text, 'base64');
  return bytes.length > 0 && bytes.length % 8 === 0 ? bytes : undefined;
}

export type LegacyUnsealer = (token: string) => string | undefined;

/** An unsealer trying each passphrase; undefined when none opens the token to a plausible token. */
export function createLegacyUnsealer(passphrases: readonly string[]): LegacyUnsealer {
  const keys = passphrases.map((passphrase) => evpBytesToKey(passphrase));
  return (token) => {
    const bytes = normalize(token);
    if (!bytes) return undefined;
    for (const { key, iv } of keys) {
      try {
        const decipher = createDecipheriv('des-ede3-cbc', key, iv);
        const plain = Buffer.concat([decipher.update(bytes), decipher.final()]).toString('latin1');
        // A wrong key passes the padding check about once in 256 tries: demand what a refresh token looks like.
        if (/^[\x21-\x7e]{8,2048}$/.test(plain)) return plain;
      } catch {
        // Bad padding: not this passphrase.
      }
    }
    return undefined;
  };
}
