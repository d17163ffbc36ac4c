/**
 * A refresh answer as it is kept outside the process: shared by replicas through Redis (coalescing),
 * or kept by a login store for the replay of a rotated token's predecessor (endpoints/rotation.ts).
 * Encrypted with a key derived from the presented token's own secret (HKDF, then AES-GCM), so that a
 * store's reader who does not hold that token learns nothing, and a replica that does can open it.
 */

import { base64url, fromBase64url, fromUtf8, randomBytes, utf8 } from '../shared/encoding.js';
import type { SharedAnswer } from './coalesce.js';

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

// What `new Response(body, { status, headers })` accepts for a string body: any other status, or a
// header it cannot set, would turn a shared answer into a 500 for every waiter.
const NULL_BODY_STATUS = new Set([204, 205, 304]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[^\r\n\0]*$/;

/**
 * The answer in `value` if it has the shape of one, as a copy of exactly its three fields. What
 * opens with the token's key was written by a holder of that token, but not necessarily by this
 * version of the service, nor by the service at all.
 */
export function asSharedAnswer(value: unknown): SharedAnswer | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { status, body, headers } = value as Record<string, unknown>;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599)
    return undefined;
  if (NULL_BODY_STATUS.has(status) || typeof body !== 'string') return undefined;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return undefined;
  const copy: Record<string, string> = {};
  for (const [name, text] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name) || typeof text !== 'string' || !HEADER_VALUE.test(text)) return undefined;
    copy[name] = text;
  }
  return { status, body, headers: copy };
}

/**
 * The answer `stored` holds, or undefined when it does not open with this secret and id, or what
 * it holds is not an answer: either way the caller acts as if there were none.
 */
export async function openAnswer(
  stored: string,
  secret: string,
  id: string,
): Promise<SharedAnswer | undefined> {
  const [ivText = '', dataText = ''] = stored.split('.');
  const iv = fromBase64url(ivText);
  const data = fromBase64url(dataText);
  if (!iv || !data) return undefined;
  let plain: string;
  try {
    const key = await answerKey(secret, id, ['decrypt']);
    plain = fromUtf8(new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, key, data)));
  } catch {
    return undefined;
  }
  try {
    return asSharedAnswer(JSON.parse(plain));
  } catch {
    return undefined;
  }
}
