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
/** Each alphabet character's 6-bit value by its byte; -1 for any other byte. */
const SEXTETS = new Int8Array(256).fill(-1);
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
 * The text being decoded, as bytes: reading a byte array is cheaper than `charCodeAt` per character.
 * One array for every decoding (each runs to its end before another can start); a longer text than
 * it holds gets an array of its own.
 */
const textBytes = new Uint8Array(4096);

/**
 * Decoded bytes are carved out of slabs, Buffer's pool in small: V8 gives every typed array of more than
 * 64 bytes memory of its own outside its heap, which cost more than the decoding of a whole sealed
 * token (docs/benchmarks.md, "Instructions per refresh"). No part of a slab is ever handed out twice;
 * a result keeps its slab alive, at most `SLAB_BYTES`, for as long as it is kept.
 */
const SLAB_BYTES = 8192;
const SLAB_MAX_PART = 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

function bytesFor(length: number): Uint8Array<ArrayBuffer> {
  if (length > SLAB_MAX_PART) return new Uint8Array(length);
  if (slabUsed + length > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const bytes = new Uint8Array(slab, slabUsed, length);
  slabUsed += length;
  return bytes;
}

/** The text's bytes, when it is ASCII only: in `textBytes` if it fits, else in an array of its own. */
function asciiBytes(text: string): Uint8Array | undefined {
  const input = text.length <= textBytes.length ? textBytes : new Uint8Array(text.length);
  // Anything but ASCII stops short of the text's end or takes more bytes than characters.
  const { read, written } = encoder.encodeInto(text, input);
  return read === text.length && written === text.length ? input : undefined;
}

/**
 * The last 2 or 3 characters of a text into the last 1 or 2 bytes; false if one is outside the
 * alphabet or the bits past the last byte are not zero (12 bits for one byte, 18 for two).
 */
function decodeLast(input: Uint8Array, from: number, rest: 2 | 3, bytes: Uint8Array, at: number): boolean {
  const a = SEXTETS[input[from] as number] as number;
  const b = SEXTETS[input[from + 1] as number] as number;
  const c = rest === 3 ? (SEXTETS[input[from + 2] as number] as number) : 0;
  const bits = (a << 18) | (b << 12) | (c << 6);
  if ((a | b | c) < 0 || (bits & (rest === 2 ? 0xffff : 0xff)) !== 0) return false;
  bytes[at] = bits >>> 16;
  if (rest === 3) bytes[at + 1] = (bits >>> 8) & 0xff;
  return true;
}

/**
 * Decodes base64url without padding; undefined for anything outside the alphabet, and for a
 * non-canonical encoding (unused bits set in the last character), so that exactly one text stands for
 * a given byte string, as jose decodes.
 */
export function fromBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  const rest = text.length % 4;
  if (rest === 1) return undefined;
  const input = asciiBytes(text);
  if (!input) return undefined;
  const whole = text.length - rest;
  const bytes = bytesFor((whole / 4) * 3 + (rest === 0 ? 0 : rest - 1));
  // One OR of every sextet: negative if any byte was outside the alphabet, checked once at the end.
  let invalid = 0;
  let at = 0;
  for (let i = 0; i < whole; i += 4) {
    const a = SEXTETS[input[i] as number] as number;
    const b = SEXTETS[input[i + 1] as number] as number;
    const c = SEXTETS[input[i + 2] as number] as number;
    const d = SEXTETS[input[i + 3] as number] as number;
    invalid |= a | b | c | d;
    const bits = (a << 18) | (b << 12) | (c << 6) | d;
    bytes[at++] = bits >>> 16;
    bytes[at++] = (bits >>> 8) & 0xff;
    bytes[at++] = bits & 0xff;
  }
  if (invalid < 0 || (rest !== 0 && !decodeLast(input, whole, rest as 2 | 3, bytes, at))) return undefined;
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
