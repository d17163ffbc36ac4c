import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createNodeSealer } from '../src/runtimes/node/sealing.js';
import { OAuthError } from '../src/server/errors.js';
import { createSealer, SEALED_PREFIX, type SealerFactory } from '../src/server/sealing.js';
import { base64url, fromBase64url } from '../src/shared/encoding.js';

const SECRET_A = `${'a'.repeat(16)}-first-sealing-secret-0123`;
const SECRET_B = `${'b'.repeat(16)}-second-sealing-secret-456`;
const CLIENT = 'client-one';
const TOKEN = 'AQDx7s-refresh_token.value~with+odd/chars=';

async function expectGenericRefusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OAuthError);
  expect((error as OAuthError).toJSON()).toEqual({
    error: 'invalid_grant',
    error_description: 'Invalid refresh token',
  });
  expect((error as OAuthError).status).toBe(400);
}

const IMPLEMENTATIONS: [string, SealerFactory][] = [
  ['WebCrypto (every runtime)', createSealer],
  ['node:crypto (the Node entry)', createNodeSealer],
];

describe.each(IMPLEMENTATIONS)('refresh-token sealing with %s', (_name, make) => {
  it('round-trips any token', async () => {
    const sealer = make([SECRET_A], CLIENT);
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 300, unit: 'grapheme' }), async (token) => {
        expect(await sealer.unseal(await sealer.seal(token))).toBe(token);
      }),
      { numRuns: 200 },
    );
  });

  it('is URL-safe: version prefix, base64url alphabet, no padding or newlines', async () => {
    const sealed = await make([SECRET_A], CLIENT).seal(TOKEN);
    expect(sealed.startsWith(SEALED_PREFIX)).toBe(true);
    expect(sealed).toMatch(/^sts1\.[A-Za-z0-9_-]+$/);
    expect(encodeURIComponent(sealed)).toBe(sealed);
  });

  it('uses a fresh IV each time, so sealing the same token twice gives unrelated output', async () => {
    const sealer = make([SECRET_A], CLIENT);
    const one = await sealer.seal(TOKEN);
    const two = await sealer.seal(TOKEN);
    expect(one).not.toBe(two);
    const ivOne = fromBase64url(one.slice(SEALED_PREFIX.length))?.subarray(4, 16);
    const ivTwo = fromBase64url(two.slice(SEALED_PREFIX.length))?.subarray(4, 16);
    expect(ivOne).not.toEqual(ivTwo);
  });

  it('refuses every single-bit flip anywhere in the token (authenticated encryption)', async () => {
    const sealer = make([SECRET_A], CLIENT);
    const sealed = await sealer.seal(TOKEN);
    const bytes = fromBase64url(sealed.slice(SEALED_PREFIX.length));
    if (!bytes) throw new Error('not base64url');
    for (let i = 0; i < bytes.length; i++) {
      const copy = bytes.slice();
      copy[i] = (copy[i] ?? 0) ^ 0x01;
      await expectGenericRefusal(sealer.unseal(SEALED_PREFIX + base64url(copy)));
    }
  });

  it('refuses truncated, extended, unsealed, wrongly prefixed and non-base64 tokens alike', async () => {
    const sealer = make([SECRET_A], CLIENT);
    const sealed = await sealer.seal(TOKEN);
    for (const bad of [
      sealed.slice(0, -1),
      sealed.slice(0, 20),
      `${sealed}A`,
      TOKEN,
      `sts2.${sealed.slice(5)}`,
      `${SEALED_PREFIX}!!!!`,
      SEALED_PREFIX,
      '',
    ]) {
      await expectGenericRefusal(sealer.unseal(bad));
    }
  });

  it('binds the client id: a token sealed for one app is refused by another with the same secret', async () => {
    const sealed = await make([SECRET_A], 'app-one').seal(TOKEN);
    await expectGenericRefusal(make([SECRET_A], 'app-two').unseal(sealed));
  });

  it('refuses a token sealed under a secret it does not hold', async () => {
    const sealed = await make([SECRET_B], CLIENT).seal(TOKEN);
    await expectGenericRefusal(make([SECRET_A], CLIENT).unseal(sealed));
  });

  it('rotates keys: the first secret seals, every listed secret unseals', async () => {
    const old = await make([SECRET_A], CLIENT).seal(TOKEN);
    const rotated = make([SECRET_B, SECRET_A], CLIENT);
    expect(await rotated.unseal(old)).toBe(TOKEN);
    const fresh = await rotated.seal(TOKEN);
    await expectGenericRefusal(make([SECRET_A], CLIENT).unseal(fresh));
    expect(await make([SECRET_B], CLIENT).unseal(fresh)).toBe(TOKEN);
  });
});

describe('the two sealing implementations', () => {
  it("open each other's tokens: one format, whichever runtime sealed it", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 300, unit: 'grapheme' }),
        fc.constantFrom(...IMPLEMENTATIONS),
        async (token, [, sealWith]) => {
          const [, openWith] = IMPLEMENTATIONS.find(([, other]) => other !== sealWith) ?? [];
          if (!openWith) throw new Error('need two implementations');
          const sealed = await sealWith([SECRET_B, SECRET_A], CLIENT).seal(token);
          expect(await openWith([SECRET_A, SECRET_B], CLIENT).unseal(sealed)).toBe(token);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuse a non-canonical encoding of a valid token: one text per token', async () => {
    const sealed = await createSealer([SECRET_A], CLIENT).seal(TOKEN);
    const body = sealed.slice(SEALED_PREFIX.length);
    // The bits the last character carries beyond the bytes: flipping them decodes to the same bytes.
    const unused = { 2: 4, 3: 2 }[body.length % 4] ?? 0;
    expect(unused, 'the token length leaves unused bits').toBeGreaterThan(0);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(body.at(-1) ?? '');
    const variants = Array.from({ length: 2 ** unused }, (_, bits) => alphabet[last ^ bits] ?? '')
      .filter((char) => char !== body.at(-1))
      .map((char) => `${SEALED_PREFIX}${body.slice(0, -1)}${char}`);
    expect(variants.length).toBe(2 ** unused - 1);
    for (const variant of variants) {
      await expectGenericRefusal(createNodeSealer([SECRET_A], CLIENT).unseal(variant));
      await expectGenericRefusal(createSealer([SECRET_A], CLIENT).unseal(variant));
    }
    expect(await createSealer([SECRET_A], CLIENT).unseal(sealed)).toBe(TOKEN);
  });

  it('refuse the same forgeries alike', async () => {
    const sealed = await createSealer([SECRET_A], CLIENT).seal(TOKEN);
    // Characters Node's lenient base64url decoder would skip over: the format allows none.
    for (const bad of [
      `${sealed.slice(0, 10)}=${sealed.slice(10)}`,
      `${sealed} `,
      `${sealed.slice(0, 30)}.${sealed.slice(30)}`,
    ]) {
      await expectGenericRefusal(createNodeSealer([SECRET_A], CLIENT).unseal(bad));
      await expectGenericRefusal(createSealer([SECRET_A], CLIENT).unseal(bad));
    }
  });
});
