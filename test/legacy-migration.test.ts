/**
 * Migration from the Ruby spotify-token-swap-service: its 3DES-sealed refresh tokens are accepted
 * on /refresh and answered with a token sealed the new way. The fixtures were made by Ruby's own
 * OpenSSL binding (test/fixtures/legacy/generate.rb), so the algorithm is checked against the real
 * thing, not against our reading of it.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createLegacyUnsealer } from '../src/runtimes/node/legacy-sealing.js';
import { ConfigError, loadConfig } from '../src/server/config/index.js';
import { SEALED_PREFIX } from '../src/server/sealing/index.js';
import { rubySeal } from './helpers/legacy.js';
import {
  authorize,
  CLIENT_ID,
  CLIENT_SECRET,
  postForm,
  REDIRECT_URI,
  SECRET_A,
  type Stack,
  startStack,
} from './helpers/stack.js';

interface Vector {
  plaintext: string;
  password: string;
  sealed: string;
}
const { vectors } = JSON.parse(
  readFileSync(new URL('./fixtures/legacy/vectors.json', import.meta.url), 'utf8'),
) as { vectors: Vector[] };

describe('legacy 3DES tokens', () => {
  it('reproduces what Ruby sealed, byte for byte (the test helper is faithful)', () => {
    for (const vector of vectors) {
      expect(rubySeal(vector.plaintext, vector.password)).toBe(vector.sealed);
    }
  });

  it('opens Ruby-sealed tokens as sent, without newlines, and with + turned into spaces', () => {
    for (const vector of vectors) {
      const open = createLegacyUnsealer(['some-other-old-secret', vector.password]);
      expect(open(vector.sealed)).toBe(vector.plaintext);
      expect(open(vector.sealed.replace(/\n/g, ''))).toBe(vector.plaintext);
      expect(open(vector.sealed.replace(/\+/g, ' '))).toBe(vector.plaintext);
    }
  });

  it('opens nothing with the wrong passphrase, or once tampered', () => {
    const [vector] = vectors;
    if (!vector) throw new Error('no vectors');
    expect(createLegacyUnsealer(['wrong passphrase'])(vector.sealed)).toBeUndefined();
    const open = createLegacyUnsealer([vector.password]);
    const tampered = `${vector.sealed[0] === 'A' ? 'B' : 'A'}${vector.sealed.slice(1)}`;
    expect(open(tampered)).toBeUndefined();
    expect(open('not base64 at all!')).toBeUndefined();
    expect(open(`${SEALED_PREFIX}abc`)).toBeUndefined();
  });

  it('needs ENCRYPTION_SECRET, since migrated tokens are sealed the new way', () => {
    const env = {
      SPOTIFY_CLIENT_ID: 'id',
      SPOTIFY_CLIENT_SECRET: 'secret',
      SPOTIFY_REDIRECT_URI: REDIRECT_URI,
      LEGACY_ENCRYPTION_SECRET: 'old secret',
    };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/LEGACY_ENCRYPTION_SECRET: needs ENCRYPTION_SECRET/);
    expect(loadConfig({ ...env, ENCRYPTION_SECRET: SECRET_A }).apps[0]?.legacyEncryptionSecrets).toEqual([
      'old secret',
    ]);
  });
});

describe('migrating through /refresh', () => {
  const LEGACY = 'the old Ruby service ENCRYPTION_SECRET';
  const stacks: Stack[] = [];
  afterEach(async () => {
    await Promise.all(stacks.splice(0).map((s) => s.close()));
  });

  /** A refresh token straight from the sandbox, sealed as the Ruby service sealed it. */
  async function legacyToken(stack: Stack): Promise<string> {
    const { code } = await authorize(stack.accounts.url);
    const response = await postForm(
      `${stack.accounts.url}/api/token`,
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI },
      { Authorization: `Basic ${btoa(`${CLIENT_ID}:${CLIENT_SECRET}`)}` },
    );
    const { refresh_token } = (await response.json()) as { refresh_token: string };
    return rubySeal(refresh_token, LEGACY);
  }

  async function start(env: Record<string, string>) {
    const stack = await startStack({ env: { ENCRYPTION_SECRET: SECRET_A, ...env } });
    stacks.push(stack);
    return stack;
  }

  it('accepts a legacy token however the client sends it, and hands back a sealed one that works', async () => {
    const stack = await start({ LEGACY_ENCRYPTION_SECRET: `another-old-one,${LEGACY}` });
    const url = `${stack.service.url}/refresh`;
    const token = await legacyToken(stack);
    expect(token).toMatch(/[+/=\n]/);
    const sends: [string, () => Promise<Response>][] = [
      ['URL-encoded form', () => postForm(url, { refresh_token: token })],
      [
        // The top support question of the old service: a token pasted into a form body unencoded.
        'unencoded form',
        () =>
          fetch(url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: `refresh_token=${token}`,
          }),
      ],
      [
        'JSON',
        () =>
          fetch(url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ refresh_token: token }),
          }),
      ],
    ];
    for (const [how, send] of sends) {
      const response = await send();
      expect(response.status, how).toBe(200);
      const body = (await response.json()) as { refresh_token: string };
      expect(body.refresh_token.startsWith(SEALED_PREFIX), how).toBe(true);
      const next = await postForm(url, { refresh_token: body.refresh_token });
      expect(next.status, how).toBe(200);
      // Once migrated, no new token: Spotify did not rotate, and the client keeps the sealed one.
      expect(await next.json()).not.toHaveProperty('refresh_token');
    }
    expect(
      stack.logs.some(
        (line) => line.msg === 'migrated a refresh token sealed by the Ruby token swap service',
      ),
    ).toBe(true);
    expect(stack.rawLogs()).not.toContain(LEGACY);
  });

  it('refuses legacy tokens without LEGACY_ENCRYPTION_SECRET, without calling Spotify', async () => {
    const stack = await start({});
    const token = await legacyToken(stack);
    const calls = stack.sandbox.stats().byGrant.refresh_token;
    const oneLine = await postForm(`${stack.service.url}/refresh`, {
      refresh_token: token.replace(/\n/g, ''),
    });
    expect(oneLine.status).toBe(400);
    expect(await oneLine.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid refresh token',
    });
    // With its newlines it is not even a well-formed token here.
    const asIs = await postForm(`${stack.service.url}/refresh`, { refresh_token: token });
    expect(asIs.status).toBe(400);
    expect(await asIs.json()).toMatchObject({ error: 'invalid_request' });
    expect(stack.sandbox.stats().byGrant.refresh_token).toBe(calls);
  });
});
