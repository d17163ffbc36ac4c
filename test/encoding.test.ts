/**
 * The base64url helpers every sealed token goes through (src/shared/encoding.ts), against Node's own
 * base64url codec: the same text for every byte string, and decoding only the one canonical text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64url, fromBase64url } from '../src/shared/encoding.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const reference = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
/** What a strict decoder accepts: the alphabet only, a possible length, and the canonical text. */
const canonical = (text: string) =>
  /^[A-Za-z0-9_-]*$/.test(text) &&
  text.length % 4 !== 1 &&
  Buffer.from(text, 'base64url').toString('base64url') === text;

describe('base64url', () => {
  it('encodes every byte string as Node does, without padding, and decodes it back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const text = base64url(bytes);
        expect(text).toBe(reference(bytes));
        expect(fromBase64url(text)).toEqual(bytes);
      }),
      { numRuns: 5_000 },
    );
  });

  it('decodes exactly the canonical texts: no other alphabet, padding, bad length or unused bits set', () => {
    const characters = [...`${ALPHABET}+/=. \n\u00e9\u{1F600}`];
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...characters), maxLength: 24 }), (text) => {
        const decoded = fromBase64url(text);
        if (canonical(text)) expect(decoded && reference(decoded)).toBe(text);
        else expect(decoded).toBeUndefined();
      }),
      { numRuns: 20_000 },
    );
  });

  it('refuses a last character whose unused bits are set (two texts for one byte string)', () => {
    // "AA" is the byte 0x00; "AB" carries the same byte with a low bit set that no encoder writes.
    expect(fromBase64url('AA')).toEqual(Uint8Array.of(0));
    expect(fromBase64url('AB')).toBeUndefined();
    expect(fromBase64url('AAA')).toEqual(Uint8Array.of(0, 0));
    expect(fromBase64url('AAB')).toBeUndefined();
    expect(fromBase64url('A')).toBeUndefined();
    expect(fromBase64url('')).toEqual(new Uint8Array(0));
  });

  it('decodes texts longer than its buffer for the text, and results larger than a slab part', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 700, maxLength: 4_000 }), (bytes) => {
        expect(fromBase64url(base64url(bytes))).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
    // Longer than 4,096 characters, and a character outside ASCII in it.
    const long = base64url(new Uint8Array(3_100));
    expect(fromBase64url(long)).toEqual(new Uint8Array(3_100));
    expect(fromBase64url(`${long.slice(0, 10)}\u00e9${long.slice(11)}`)).toBeUndefined();
  });

  it('results carved from one slab stay as decoded, whatever is decoded after them', () => {
    // More results than one slab holds, each kept and changed: none may share bytes with another.
    const kept = Array.from({ length: 300 }, (_, i) => {
      const bytes = Uint8Array.from({ length: 50 + (i % 200) }, (_, j) => (i * 7 + j) & 0xff);
      return { bytes, decoded: fromBase64url(base64url(bytes)) as Uint8Array };
    });
    for (const { decoded } of kept) decoded.fill(0xaa, 0, 1);
    kept.forEach(({ bytes, decoded }) => {
      expect(decoded.subarray(1)).toEqual(bytes.subarray(1));
      expect(decoded[0]).toBe(0xaa);
    });
  });
});
