/** The Ruby spotify-token-swap-service's sealing, for tests that need tokens it would have issued. */
import { createCipheriv } from 'node:crypto';
import { evpBytesToKey } from '../../src/runtimes/node/legacy-sealing.js';

/**
 * Seals as the Ruby service did (encrypted_strings: DES-EDE3-CBC, EVP_BytesToKey, Base64 with a
 * newline every 60 characters); test/legacy-migration.test.ts checks it against Ruby's own output.
 */
export function rubySeal(plain: string, password: string): string {
  const { key, iv } = evpBytesToKey(password);
  const cipher = createCipheriv('des-ede3-cbc', key, iv);
  const base64 = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
  // Array#pack('m'): a newline after every 60 characters, and at the end.
  return `${base64.match(/.{1,60}/g)?.join('\n')}\n`;
}
