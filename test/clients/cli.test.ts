/**
 * The `token-swap` CLI (`login`, `refresh`, `logout`), run for real (the built binary) against the service
 * through a recording proxy: the test sees the exact bytes the CLI's swap client (the client kit, over
 * Node's fetch) writes, and the service's real answers. Nothing here is assumed: it is recorded.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pkceChallenge } from '../../src/shared/encoding.js';
import { runCli } from '../helpers/cli.js';
import { waitForStdout } from '../helpers/cli-stdout.js';
import {
  formFields,
  type RawRequest,
  type RecordingProxy,
  startRecordingProxy,
} from '../helpers/clients-wire.js';
import { verifyProof } from '../helpers/dpop.js';
import { CLIENT_ID, CLIENT_SECRET, postForm, SECRET_A, type Stack, startStack } from '../helpers/stack.js';

/** What to register for a CLI: loopback without a port matches the catcher's port, whatever it is. */
const LOOPBACK = 'http://127.0.0.1/callback';

async function startFor(redirectUris: string): Promise<{ stack: Stack; proxy: RecordingProxy }> {
  const stack = await startStack({
    sandbox: { clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [LOOPBACK] }] },
    env: { SPOTIFY_REDIRECT_URI: redirectUris, ENCRYPTION_SECRET: SECRET_A },
  });
  return { stack, proxy: await startRecordingProxy(stack.service.url) };
}

function storeIn(): string {
  return join(mkdtempSync(join(tmpdir(), 'clients-cli-')), 'tokens.json');
}

/** `token-swap login --no-open`, with the test as the person at the (auto-approving) browser. */
async function login(stack: Stack, proxy: RecordingProxy, store: string) {
  const run = runCli([
    'login',
    '--swap-url',
    proxy.url,
    '--client-id',
    CLIENT_ID,
    '--accounts-url',
    stack.accounts.url,
    '--no-open',
    '--store',
    store,
  ]);
  const [, url] = await waitForStdout(run, /Open this URL in your browser to log in:\n {2}(\S+)/);
  // The sandbox approves at once; following its redirect lands on the CLI's loopback catcher.
  await (await fetch(url ?? '')).text();
  const { code } = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr(), authorizeUrl: new URL(url ?? '') };
}

function header(request: RawRequest, name: string): string | undefined {
  return request.headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

describe('token-swap login, refresh', () => {
  let stack: Stack;
  let proxy: RecordingProxy;
  beforeAll(async () => {
    ({ stack, proxy } = await startFor(LOOPBACK));
  });
  afterAll(async () => {
    await proxy.close();
    await stack.close();
  });

  it('swaps code, redirect_uri and code_verifier as a form, and stores the sealed refresh token', async () => {
    const store = storeIn();
    const result = await login(stack, proxy, store);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Logged in as Sandbox User/);

    // The service's metadata (where to authorize, whether DPoP), a probe, and the swap: the service
    // answers the first two without calling Spotify. (The proxy lists requests per connection, so
    // their order here is not the order they were sent in.)
    const requests = proxy.requests();
    expect(requests.map((r) => `${r.method} ${r.target}`).sort()).toEqual([
      'GET /.well-known/oauth-authorization-server',
      'GET /swap',
      'POST /swap',
    ]);
    const probe = requests.find((r) => r.method === 'GET' && r.target === '/swap');
    const swap = requests.find((r) => r.method === 'POST');
    if (!probe || !swap) throw new Error('the CLI sent less than a probe and a swap');
    expect(probe.body.length).toBe(0);
    // The service announces DPoP in its metadata, so the swap carries a proof by the login's new key.
    const { payload } = await verifyProof(header(swap, 'dpop') ?? '');
    expect(payload).toMatchObject({ htm: 'POST', htu: expect.stringMatching(/\/swap$/) });
    expect([swap.method, swap.target]).toEqual(['POST', '/swap']);
    expect(header(swap, 'content-type')).toBe('application/x-www-form-urlencoded');
    expect(header(swap, 'accept')).toBe('application/json');
    const fields = formFields(swap.body);
    expect(fields.map(([name]) => name)).toEqual(['code', 'redirect_uri', 'code_verifier']);
    const sent = Object.fromEntries(fields);
    // The same redirect URI and the verifier of the challenge that went to /authorize.
    expect(sent.redirect_uri).toBe(result.authorizeUrl.searchParams.get('redirect_uri'));
    expect(sent.redirect_uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(await pkceChallenge(sent.code_verifier ?? '')).toBe(
      result.authorizeUrl.searchParams.get('code_challenge'),
    );
    expect(stack.sandbox.stats().lastTokenRequest?.params).toEqual([
      'grant_type',
      'code',
      'redirect_uri',
      'code_verifier',
    ]);

    const saved = JSON.parse(readFileSync(store, 'utf8')) as { tokens: { refreshToken: string } };
    expect(saved.tokens.refreshToken).toMatch(/^sts2\.[A-Za-z0-9_-]+$/);

    const refresh = runCli(['refresh', '--store', store]);
    expect((await refresh.exited).code, refresh.stderr()).toBe(0);
    const refreshes = proxy.requests().slice(3);
    expect(refreshes.map((r) => [r.method, r.target])).toEqual([['POST', '/refresh']]);
    const [refreshRequest] = refreshes;
    if (!refreshRequest) throw new Error('no refresh');
    expect(header(refreshRequest, 'content-type')).toBe('application/x-www-form-urlencoded');
    expect(formFields(refreshRequest.body)).toEqual([['refresh_token', saved.tokens.refreshToken]]);
    // Spotify did not rotate: the stored refresh token stays.
    const after = JSON.parse(readFileSync(store, 'utf8')) as { tokens: { refreshToken: string } };
    expect(after.tokens.refreshToken).toBe(saved.tokens.refreshToken);
  });
  it('logout revokes with the stored refresh token as a form, after which it refreshes no more', async () => {
    const store = storeIn();
    expect((await login(stack, proxy, store)).code).toBe(0);
    const saved = JSON.parse(readFileSync(store, 'utf8')) as {
      tokens: { accessToken: string; refreshToken: string };
    };
    const sent = proxy.requests().length;
    const logout = runCli(['logout', '--store', store]);
    expect((await logout.exited).code, logout.stderr()).toBe(0);
    const [revoke, ...others] = proxy.requests().slice(sent);
    expect(others).toEqual([]);
    if (!revoke) throw new Error('logout sent nothing');
    expect([revoke.method, revoke.target]).toEqual(['POST', '/revoke']);
    expect(header(revoke, 'content-type')).toBe('application/x-www-form-urlencoded');
    expect(formFields(revoke.body)).toEqual([
      ['token', saved.tokens.refreshToken],
      ['token_type_hint', 'refresh_token'],
    ]);
    expect(logout.stderr()).toBe(
      `Revoked the login at the swap service at ${proxy.url}: none of its refresh tokens works any more.\n`,
    );
    expect(logout.stdout()).toMatch(/^Logged out: removed /);
    for (const token of [saved.tokens.refreshToken, saved.tokens.accessToken]) {
      expect(logout.stdout() + logout.stderr()).not.toContain(token);
    }
    // Checked at the service itself: the login is revoked.
    const refresh = await postForm(`${stack.service.url}/refresh`, {
      refresh_token: saved.tokens.refreshToken,
    });
    expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });
  });
});

describe('token-swap login against a service without the loopback redirect URI', () => {
  it('fails with the invalid_grant the service passes through, naming the redirect URI it used and what to add', async () => {
    const { stack, proxy } = await startFor('myapp://callback');
    try {
      const result = await login(stack, proxy, storeIn());
      expect(result.code).toBe(1);
      const used = result.authorizeUrl.searchParams.get('redirect_uri');
      expect(used).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
      expect(result.stderr).toBe(
        `token-swap: Spotify refused the code (invalid_grant: Invalid redirect URI): this login used the redirect URI ${used}, and the swap service exchanged the code with another one, because this one is not on its allowlist. Add http://127.0.0.1/callback (no port: it matches any port) to the service's SPOTIFY_REDIRECT_URI, and register the same URI for the app in the Spotify dashboard.\n`,
      );
    } finally {
      await proxy.close();
      await stack.close();
    }
  });
});
