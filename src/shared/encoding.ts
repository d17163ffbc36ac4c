/** Small byte helpers over Web APIs, so the core runs unchanged on Node, Deno, Bun and workerd. */

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Each alphabet character's 6-bit value by char code; -1 for anything else. */
const SEXTETS = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) SEXTETS[ALPHABET.charCodeAt(i)] = i;
/** The alphabet's character codes: the encoder writes ASCII bytes and decodes them into one string. */
const ALPHABET_CODES = utf8(ALPHABET);
const ascii = new TextDecoder();

/**
 * base64url without padding (RFC 4648 §5), the only alphabet that survives an unencoded form body.
 * By table rather than through btoa, whose binary string and three replacements cost twice this. The
 * characters go into a byte array decoded once into a flat string: joined one by one, they would make a
 * rope of a node per join, several times the memory of the string for as long as it is kept (the
 * sandbox keeps hundreds of thousands of minted tokens: test/attack-replay.test.ts). No table of
 * character pairs either: building its 4,096 strings at module start cost a fresh Workers isolate
 * 2.5 ms of its first request (docs/benchmarks.md).
 */
export function base64url(bytes: Uint8Array): string {
  const whole = bytes.length - (bytes.length % 3);
  const rest = bytes.length - whole;
  const out = new Uint8Array((whole / 3) * 4 + (rest === 0 ? 0 : rest + 1));
  let at = 0;
  const put = (sextet: number) => {
    out[at++] = ALPHABET_CODES[sextet] as number;
  };
  for (let i = 0; i < whole; i += 3) {
    const bits = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    put(bits >>> 18);
    put((bits >>> 12) & 63);
    put((bits >>> 6) & 63);
    put(bits & 63);
  }
  if (rest === 1) {
    const bits = bytes[whole] as number;
    put(bits >>> 2);
    put((bits << 4) & 63);
  } else if (rest === 2) {
    const bits = ((bytes[whole] as number) << 8) | (bytes[whole + 1] as number);
    put(bits >>> 10);
    put((bits >>> 4) & 63);
    put((bits << 2) & 63);
  }
  return ascii.decode(out);
}

/**
 * Decodes base64url without padding; undefined for anything outside the alphabet, and for a
 * non-canonical encoding (unused bits set in the last character), so that exactly one text stands for
 * a given byte string, as jose decodes.
 */
export function fromBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  const rest = text.length % 4;
  if (rest === 1) return undefined;
  const bytes = new Uint8Array(((text.length - rest) / 4) * 3 + (rest === 0 ? 0 : rest - 1));
  let sextets = 0;
  let count = 0;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? (SEXTETS[code] as number) : -1;
    if (value < 0) return undefined;
    sextets = (sextets << 6) | value;
    if (++count === 4) {
      bytes[at++] = sextets >>> 16;
      bytes[at++] = (sextets >>> 8) & 0xff;
      bytes[at++] = sextets & 0xff;
      sextets = 0;
      count = 0;
    }
  }
  if (rest === 2) {
    // 12 bits for one byte: the last 4 must be zero.
    if ((sextets & 0x0f) !== 0) return undefined;
    bytes[at] = sextets >>> 4;
  } else if (rest === 3) {
    // 18 bits for two bytes: the last 2 must be zero.
    if ((sextets & 0x03) !== 0) return undefined;
    bytes[at++] = sextets >>> 10;
    bytes[at] = (sextets >>> 2) & 0xff;
  }
  return bytes;
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
