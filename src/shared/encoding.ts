/** Small byte helpers over Web APIs, so the core runs unchanged on Node, Deno, Bun and workerd. */

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** base64url without padding (RFC 4648 §5), the only alphabet that survives an unencoded form body. */
export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Decodes base64url without padding; undefined for anything outside the alphabet, and for a
 * non-canonical encoding (unused bits set in the last character), so that exactly one text stands for
 * a given byte string, as jose decodes.
 */
export function fromBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    return undefined;
  }
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return base64url(bytes) === text ? bytes : undefined;
}

export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** A random base64url string carrying `bytes` bytes of entropy. */
export function randomToken(bytes = 32): string {
  return base64url(randomBytes(bytes));
}

/**
 * Compares two strings in time that depends only on their lengths, not on where they differ
 * (the idea of node-oidc-provider's constant_equals). Both sides are hashed first so that even
 * the length of the secret side does not leak through timing.
 */
export async function timingSafeEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest('SHA-256', utf8(a)),
    crypto.subtle.digest('SHA-256', utf8(b)),
  ]);
  const x = new Uint8Array(ha);
  const y = new Uint8Array(hb);
  let diff = 0;
  for (let i = 0; i < x.length; i++) {
    diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  }
  return diff === 0 && a.length === b.length;
}

/** base64url(SHA-256(verifier)): the PKCE S256 code challenge (RFC 7636 §4.2). */
export async function pkceChallenge(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(verifier))));
}

/** RFC 7636 §4.1: 43 to 128 characters of `A-Z a-z 0-9 - . _ ~`. */
export const CODE_VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;
