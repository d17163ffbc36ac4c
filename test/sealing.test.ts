/**
 * The sealed refresh token (src/server/sealing/): both implementations, WebCrypto and node:crypto,
 * seal the same format, open each other's tokens and the first format's, carry the whole grant, and
 * refuse anything else with the one generic error.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createNodeSealer } from '../src/runtimes/node/sealing.js';
import { OAuthError } from '../src/server/errors.js';
import {
  createSealer,
  type Grant,
  SEALED_PREFIX,
  type SealBinding,
  type SealerFactory,
} from '../src/server/sealing/index.js';
import { base64url, fromBase64url } from '../src/shared/encoding.js';

const SECRET_A = `${'a'.repeat(16)}-first-sealing-secret-0123`;
const SECRET_B = `${'b'.repeat(16)}-second-sealing-secret-456`;
const APP: SealBinding = { app: 'default', clientId: 'client-one' };
const TOKEN = 'AQDx7s-refresh_token.value~with+odd/chars=';

const grantOf = (refreshToken: string, more: Partial<Grant> = {}): Grant => ({
  refreshToken,
  authTime: 1_780_000_000,
  familyId: 'family-0123456789abcdef',
  generation: 0,
  issuedAt: 1_780_000_100,
  ...more,
});

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

/** Tokens the first format's sealer made (git history, before the second format), kept as vectors. */
const STS1_VECTORS = JSON.parse(
  readFileSync(new URL('./fixtures/sealing/sts1-vectors.json', import.meta.url), 'utf8'),
) as { secrets: string[]; clientId: string; token: string; sealed: string }[];

const grantArbitrary = fc.record({
  refreshToken: fc.string({ minLength: 1, maxLength: 300, unit: 'grapheme' }),
  authTime: fc.option(fc.integer({ min: 0, max: 4_000_000_000 }), { nil: undefined }),
  familyId: fc.string({ minLength: 1, maxLength: 30 }),
  generation: fc.nat(),
  issuedAt: fc.integer({ min: 0, max: 4_000_000_000 }),
});

describe.each(IMPLEMENTATIONS)('refresh-token sealing with %s', (_name, make) => {
  it('round-trips any grant, and says which key opened it', async () => {
    const sealer = make([SECRET_A], APP);
    await fc.assert(
      fc.asyncProperty(grantArbitrary, async (grant) => {
        const opened = await sealer.unseal(await sealer.seal(grant));
        expect(opened.grant).toEqual(grant);
        expect(opened).toMatchObject({ version: 2, keyIndex: 0 });
        expect(opened.kid).toMatch(/^[0-9a-f]{8}$/);
      }),
      { numRuns: 150 },
    );
    const bound = await sealer.unseal(await sealer.seal(grantOf(TOKEN, { keyBinding: 'jkt-thumbprint' })));
    expect(bound.grant.keyBinding).toBe('jkt-thumbprint');
  });

  it('still opens tokens of the first format (sts1.), reporting what they do not carry as unknown', async () => {
    for (const vector of STS1_VECTORS) {
      const opened = await make(vector.secrets, { app: 'any-app', clientId: vector.clientId }).unseal(
        vector.sealed,
      );
      expect(opened).toMatchObject({ version: 1, keyIndex: 0 });
      expect(opened.grant).toEqual({
        refreshToken: vector.token,
        authTime: undefined,
        familyId: undefined,
        generation: 0,
        issuedAt: undefined,
      });
    }
    const [first] = STS1_VECTORS;
    if (!first) throw new Error('no vector');
    await expectGenericRefusal(make(first.secrets, { app: 'x', clientId: 'another' }).unseal(first.sealed));
  });

  it('is URL-safe: version prefix, base64url alphabet, no padding or newlines', async () => {
    const sealed = await make([SECRET_A], APP).seal(grantOf(TOKEN));
    expect(sealed).toMatch(/^sts2\.[A-Za-z0-9_-]+$/);
    expect(encodeURIComponent(sealed)).toBe(sealed);
  });

  it('uses a fresh IV each time, so sealing the same grant twice gives unrelated output', async () => {
    const sealer = make([SECRET_A], APP);
    const one = await sealer.seal(grantOf(TOKEN));
    const two = await sealer.seal(grantOf(TOKEN));
    expect(one).not.toBe(two);
    const ivOf = (token: string) => fromBase64url(token.slice(SEALED_PREFIX.length))?.subarray(4, 16);
    expect(ivOf(one)).not.toEqual(ivOf(two));
  });

  it('refuses every single-bit flip anywhere in the token (authenticated encryption)', async () => {
    const sealer = make([SECRET_A], APP);
    const sealed = await sealer.seal(grantOf(TOKEN));
    const bytes = fromBase64url(sealed.slice(SEALED_PREFIX.length));
    if (!bytes) throw new Error('not base64url');
    for (let i = 0; i < bytes.length; i++) {
      const copy = bytes.slice();
      copy[i] = (copy[i] ?? 0) ^ 0x01;
      await expectGenericRefusal(sealer.unseal(SEALED_PREFIX + base64url(copy)));
    }
  });

  it('refuses truncated, extended, unsealed, wrongly prefixed and non-base64 tokens alike', async () => {
    const sealer = make([SECRET_A], APP);
    const sealed = await sealer.seal(grantOf(TOKEN));
    for (const bad of [
      sealed.slice(0, -1),
      sealed.slice(0, 20),
      `${sealed}A`,
      TOKEN,
      `sts1.${sealed.slice(5)}`,
      `sts3.${sealed.slice(5)}`,
      `${SEALED_PREFIX}!!!!`,
      SEALED_PREFIX,
      '',
    ]) {
      await expectGenericRefusal(sealer.unseal(bad));
    }
  });

  it('binds the app name and the client id: two apps with the same credentials refuse each other', async () => {
    const sealed = await make([SECRET_A], { app: 'ios', clientId: 'shared-id' }).seal(grantOf(TOKEN));
    await expectGenericRefusal(make([SECRET_A], { app: 'web', clientId: 'shared-id' }).unseal(sealed));
    await expectGenericRefusal(make([SECRET_A], { app: 'ios', clientId: 'other-id' }).unseal(sealed));
    // Length-prefixed: the name and the id cannot trade characters.
    await expectGenericRefusal(make([SECRET_A], { app: 'io', clientId: 'sshared-id' }).unseal(sealed));
    expect(
      (await make([SECRET_A], { app: 'ios', clientId: 'shared-id' }).unseal(sealed)).grant.refreshToken,
    ).toBe(TOKEN);
  });

  it('refuses a token sealed under a secret it does not hold', async () => {
    const sealed = await make([SECRET_B], APP).seal(grantOf(TOKEN));
    await expectGenericRefusal(make([SECRET_A], APP).unseal(sealed));
  });

  it('rotates keys: the first secret seals, every listed secret unseals and says which it was', async () => {
    const old = await make([SECRET_A], APP).seal(grantOf(TOKEN));
    const rotated = make([SECRET_B, SECRET_A], APP);
    expect(await rotated.unseal(old)).toMatchObject({ keyIndex: 1, grant: { refreshToken: TOKEN } });
    const fresh = await rotated.seal(grantOf(TOKEN));
    await expectGenericRefusal(make([SECRET_A], APP).unseal(fresh));
    expect(await make([SECRET_B], APP).unseal(fresh)).toMatchObject({ keyIndex: 0 });
  });
});

describe('the two sealing implementations', () => {
  it("open each other's tokens: one format, whichever runtime sealed it", async () => {
    await fc.assert(
      fc.asyncProperty(grantArbitrary, fc.constantFrom(...IMPLEMENTATIONS), async (grant, [, sealWith]) => {
        const [, openWith] = IMPLEMENTATIONS.find(([, other]) => other !== sealWith) ?? [];
        if (!openWith) throw new Error('need two implementations');
        const sealed = await sealWith([SECRET_B, SECRET_A], APP).seal(grant);
        expect((await openWith([SECRET_A, SECRET_B], APP).unseal(sealed)).grant).toEqual(grant);
      }),
      { numRuns: 150 },
    );
  });

  it('refuse a non-canonical encoding of a valid token: one text per token', async () => {
    // A refresh token of a length that leaves unused bits in the last base64url character.
    let sealed = '';
    for (let pad = 0; pad < 3; pad++) {
      sealed = await createSealer([SECRET_A], APP).seal(grantOf(`${TOKEN}${'x'.repeat(pad)}`));
      if ((sealed.length - SEALED_PREFIX.length) % 4 !== 0) break;
    }
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
      await expectGenericRefusal(createNodeSealer([SECRET_A], APP).unseal(variant));
      await expectGenericRefusal(createSealer([SECRET_A], APP).unseal(variant));
    }
    await expect(createSealer([SECRET_A], APP).unseal(sealed)).resolves.toMatchObject({ version: 2 });
  });

  it('refuse the same forgeries alike', async () => {
    const sealed = await createSealer([SECRET_A], APP).seal(grantOf(TOKEN));
    // Characters Node's lenient base64url decoder would skip over: the format allows none.
    for (const bad of [
      `${sealed.slice(0, 10)}=${sealed.slice(10)}`,
      `${sealed} `,
      `${sealed.slice(0, 30)}.${sealed.slice(30)}`,
    ]) {
      await expectGenericRefusal(createNodeSealer([SECRET_A], APP).unseal(bad));
      await expectGenericRefusal(createSealer([SECRET_A], APP).unseal(bad));
    }
  });
});
