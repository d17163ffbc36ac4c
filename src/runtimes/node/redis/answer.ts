/**
 * A refresh answer as replicas share it through Redis: encrypted with a key derived from the
 * refresh token itself (HKDF, then AES-GCM), so that a Redis reader who does not hold that token
 * learns nothing, and a replica that does can open it.
 */
import type { SharedAnswer } from '../../../server/coalesce.js';
import { base64url, fromBase64url, fromUtf8, randomBytes, utf8 } from '../../../shared/encoding.js';

async function answerKey(secret: string, id: string, usage: KeyUsage[]): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', utf8(secret), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: utf8('token-swap shared refresh answer'), info: utf8(id) },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    usage,
  );
}

export async function sealAnswer(answer: SharedAnswer, secret: string, id: string): Promise<string> {
  const iv = randomBytes(12);
  const key = await answerKey(secret, id, ['encrypt']);
  const data = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, utf8(JSON.stringify(answer))),
  );
  return `${base64url(iv)}.${base64url(data)}`;
}

/** The answer `stored` holds, or undefined when it does not open with this secret and id. */
export async function openAnswer(
  stored: string,
  secret: string,
  id: string,
): Promise<SharedAnswer | undefined> {
  const [ivText = '', dataText = ''] = stored.split('.');
  const iv = fromBase64url(ivText);
  const data = fromBase64url(dataText);
  if (!iv || !data) return undefined;
  try {
    const key = await answerKey(secret, id, ['decrypt']);
    return JSON.parse(
      fromUtf8(new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, key, data))),
    );
  } catch {
    return undefined;
  }
}
