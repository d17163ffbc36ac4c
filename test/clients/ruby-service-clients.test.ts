/**
 * Clients of the Ruby spotify-token-swap-service (bih/spotify-token-swap-service and its copies), moved
 * here by changing the host only: same paths, same fields, same answers, replayed byte for byte.
 *
 * Sourced:
 * - docs/spotify-accounts.md §5: they post form `code` to `/api/token` and form `refresh_token` to
 *   `/api/refresh_token`, and need the same JSON back.
 * - docs/migrating-from-the-ruby-service.md: the Ruby service sealed with 3DES into Base64 holding `+ / =` and newlines,
 *   so its users' top support question was a token pasted into a form body without URL encoding;
 *   docs/migrating-from-the-ruby-service.md promises such tokens keep working.
 * - Spotify's own Ruby example (spotify/ios-sdk DemoProjects/spotify_token_swap.rb) reads `params[:code]`
 *   and `params[:refresh_token]`: form fields.
 *
 * Assumed: the client is curl or something like it (`curl -d`): its header lines and their order.
 */
import { createCipheriv } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evpBytesToKey } from '../../src/runtimes/node/legacy-sealing.js';
import { hasIntegerLiteral, hostOf, type RawResponse, send } from '../helpers/clients-wire.js';
import {
  authorize,
  CLIENT_ID,
  CLIENT_SECRET,
  postForm,
  REDIRECT_URI,
  SECRET_A,
  type Stack,
  startStack,
} from '../helpers/stack.js';

// No comma: LEGACY_ENCRYPTION_SECRET is a comma-separated list.
const OLD_SECRET = 'the Ruby service ENCRYPTION_SECRET kept as LEGACY_ENCRYPTION_SECRET';

/** `curl -s URL -d <body>`: curl 7.88's header lines, and the body exactly as given (never encoded). */
function curlPost(baseUrl: string, path: string, body: string): Promise<RawResponse> {
  const bytes = Buffer.from(body, 'utf8');
  return send(baseUrl, {
    method: 'POST',
    target: path,
    headers: [
      ['Host', hostOf(baseUrl)],
      ['User-Agent', 'curl/7.88.1'],
      ['Accept', '*/*'],
      ['Content-Length', String(bytes.length)],
      ['Content-Type', 'application/x-www-form-urlencoded'],
    ],
    body: bytes,
  });
}

/** The Ruby service's sealing (encrypted_strings: DES-EDE3-CBC, EVP_BytesToKey MD5, pack('m')). */
function rubySeal(plain: string, password: string): string {
  const { key, iv } = evpBytesToKey(password);
  const cipher = createCipheriv('des-ede3-cbc', key, iv);
  const base64 = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
  return `${base64.match(/.{1,60}/g)?.join('\n')}\n`;
}

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    env: {
      // The Ruby service's variable name, and no new one: the old .env keeps working.
      SPOTIFY_REDIRECT_URI: undefined,
      SPOTIFY_CLIENT_CALLBACK_URL: REDIRECT_URI,
      ENCRYPTION_SECRET: SECRET_A,
      LEGACY_ENCRYPTION_SECRET: OLD_SECRET,
    },
  });
});
afterAll(() => stack.close());

function expectTokens(response: RawResponse, keys: string[]): Record<string, unknown> {
  expect(response.status, response.text()).toBe(200);
  expect(response.header('content-type')).toBe('application/json');
  const body = response.json() as Record<string, unknown>;
  expect(Object.keys(body)).toEqual(keys);
  expect(body.token_type).toBe('Bearer');
  expect(hasIntegerLiteral(response.text(), 'expires_in')).toBe(true);
  return body;
}

const SWAP_KEYS = [
  'access_token',
  'token_type',
  'expires_in',
  'scope',
  'refresh_token',
  'refresh_token_expires_in',
];
const REFRESH_KEYS = ['access_token', 'token_type', 'expires_in', 'scope', 'refresh_token_expires_in'];
/** A token the Ruby service sealed carries no authorization time: the login's end is unknown, and not invented. */
const MIGRATED_KEYS = ['access_token', 'token_type', 'expires_in', 'scope', 'refresh_token'];
const MIGRATED_REFRESH_KEYS = ['access_token', 'token_type', 'expires_in', 'scope'];

describe('POST /api/token', () => {
  it('swaps form `code` and answers the same JSON as /swap', async () => {
    const { code } = await authorize(stack.accounts.url);
    const body = expectTokens(await curlPost(stack.service.url, '/api/token', `code=${code}`), SWAP_KEYS);
    expect(body.refresh_token).toMatch(/^sts2\.[A-Za-z0-9_-]+$/);
  });

  it("passes Spotify's JSON error through for a reused code", async () => {
    const { code } = await authorize(stack.accounts.url);
    await curlPost(stack.service.url, '/api/token', `code=${code}`);
    const again = await curlPost(stack.service.url, '/api/token', `code=${code}`);
    expect(again.status).toBe(400);
    expect(again.json()).toEqual({ error: 'invalid_grant', error_description: 'Invalid authorization code' });
  });
});

describe('POST /api/refresh_token', () => {
  it('takes a sealed token pasted unencoded into the form body', async () => {
    const { code } = await authorize(stack.accounts.url);
    const swapped = expectTokens(await curlPost(stack.service.url, '/api/token', `code=${code}`), SWAP_KEYS);
    const token = swapped.refresh_token as string;
    // Nothing in it that form encoding would change: pasting it raw and encoding it are the same bytes.
    expect(new URLSearchParams({ refresh_token: token }).toString()).toBe(`refresh_token=${token}`);
    expectTokens(
      await curlPost(stack.service.url, '/api/refresh_token', `refresh_token=${token}`),
      REFRESH_KEYS,
    );
  });

  it('takes a token the Ruby service sealed, pasted raw with its + / = and newlines, and migrates it', async () => {
    // A refresh token straight from Spotify (the sandbox), sealed as the Ruby service sealed it; one
    // with a `+`, which an unencoded form body turns into a space.
    let legacy = '';
    for (let i = 0; i < 50 && !legacy.includes('+'); i++) {
      const { code } = await authorize(stack.accounts.url);
      const direct = await postForm(
        `${stack.accounts.url}/api/token`,
        { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI },
        { Authorization: `Basic ${btoa(`${CLIENT_ID}:${CLIENT_SECRET}`)}` },
      );
      legacy = rubySeal(((await direct.json()) as { refresh_token: string }).refresh_token, OLD_SECRET);
    }
    expect(legacy).toMatch(/\+/);
    expect(legacy).toMatch(/\n/);

    const response = await curlPost(stack.service.url, '/api/refresh_token', `refresh_token=${legacy}`);
    // Migrated: a refresh token sealed the new way comes back even though Spotify did not rotate.
    const body = expectTokens(response, MIGRATED_KEYS);
    expect(body.refresh_token).toMatch(/^sts2\.[A-Za-z0-9_-]+$/);
    expectTokens(
      await curlPost(stack.service.url, '/api/refresh_token', `refresh_token=${body.refresh_token}`),
      MIGRATED_REFRESH_KEYS,
    );
  });

  it('answers a token that is neither, as JSON, without a Ruby exception text', async () => {
    const response = await curlPost(stack.service.url, '/api/refresh_token', 'refresh_token=not+a+token');
    expect(response.status).toBe(400);
    expect(response.json()).toEqual({ error: 'invalid_grant', error_description: 'Invalid refresh token' });
  });
});
