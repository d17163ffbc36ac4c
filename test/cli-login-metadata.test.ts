/**
 * `token-swap login` from the swap service's RFC 8414 metadata, against a spawned `serve --sandbox`
 * and a person agreeing in a browser (test/helpers/agreeing-browser.mjs as $BROWSER): the authorize
 * endpoint comes from `authorization_endpoint`, the client id from `spotify_client_id` where the
 * service publishes it, and DPoP is used when `dpop_signing_alg_values_supported` has ES256: a new key
 * per login, kept in the 0600 store, proving every refresh and the logout, and the service binds the
 * refresh token to it. One service runs behind a recording proxy with PUBLIC_URL set to the proxy,
 * so that its issuer and endpoints (and a proof's htu) are the proxy's, as behind any reverse proxy;
 * the other is reached directly.
 */
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { calculateJwkThumbprint } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_CLIENT_ID } from '../src/sandbox/index.js';
import { type CliRun, emptyDir, runCli } from './helpers/cli.js';
import { verifyProof } from './helpers/dpop.js';
import { type Listening, listen } from './helpers/listen.js';

const BROWSER = fileURLToPath(new URL('./helpers/agreeing-browser.mjs', import.meta.url));

const running: CliRun[] = [];
let proxy: Listening;
let plainUrl: string;
let target = '';
const proofs: { path: string; proof: string | null }[] = [];

async function serve(env: Record<string, string> = {}): Promise<string> {
  const run = runCli(['serve', '--sandbox', '--port', '0'], { env });
  running.push(run);
  const [, url = ''] = await run.waitFor(/Swap service\s+(http:\/\/\S+)/);
  return url.replace(/\/$/, '');
}

beforeAll(async () => {
  proxy = await listen(async (request) => {
    const url = new URL(request.url);
    if (request.method === 'POST') proofs.push({ path: url.pathname, proof: request.headers.get('dpop') });
    const body = request.method === 'GET' ? undefined : await request.arrayBuffer();
    const headers = new Headers(request.headers);
    headers.delete('host');
    const answer = await fetch(`${target}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body,
      redirect: 'manual',
    });
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  });
  [target, plainUrl] = await Promise.all([serve({ PUBLIC_URL: proxy.url }), serve()]);
}, 30_000);
afterAll(async () => {
  for (const run of running) run.child.kill('SIGTERM');
  await Promise.all(running.map((run) => run.exited));
  await proxy?.close();
});

async function cli(args: string[]) {
  const run = runCli(args, { env: { BROWSER } });
  running.push(run);
  const { code } = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

const storeIn = () => `${emptyDir()}/tokens.json`;

/** The DPoP proofs the proxy saw on POSTs to `path`, verified with jose, as their keys' thumbprints. */
async function thumbprintsOn(path: string): Promise<string[]> {
  const seen = proofs.filter((sent) => sent.path === path);
  return Promise.all(
    seen.map(async (sent) => {
      const { header, payload } = await verifyProof(sent.proof ?? '');
      expect(payload).toMatchObject({ htm: 'POST', htu: `${proxy.url}${path}` });
      return calculateJwkThumbprint(header.jwk ?? {}, 'sha256');
    }),
  );
}

describe('token-swap login from the service metadata', () => {
  it('logs in with --swap-url alone, with a new DPoP key kept 0600 that proves the refresh and the logout', async () => {
    proofs.length = 0;
    const store = storeIn();
    const login = await cli(['login', '--swap-url', proxy.url, '--store', store]);
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    expect(login.stdout).toContain('Logged in as Sandbox User');
    expect(login.stdout).toContain(`${target}/sandbox/authorize?client_id=${SANDBOX_CLIENT_ID}&`);
    expect(login.stdout).toMatch(/DPoP: +a key of this login/);
    expect(statSync(store).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(store, 'utf8'));
    expect(stored).toMatchObject({ clientId: SANDBOX_CLIENT_ID, accountsUrl: `${target}/sandbox` });
    const thumbprint = await calculateJwkThumbprint(stored.dpopJwk, 'sha256');
    expect(await thumbprintsOn('/swap')).toEqual([thumbprint]);
    // The private key never reaches the terminal.
    expect(login.stdout).not.toContain(stored.dpopJwk.d);

    expect((await cli(['refresh', '--store', store])).code).toBe(0);
    expect(await thumbprintsOn('/refresh')).toEqual([thumbprint]);
    const logout = await cli(['logout', '--store', store]);
    expect(logout.code).toBe(0);
    expect(await thumbprintsOn('/revoke')).toEqual([thumbprint]);

    // A second login has a key of its own.
    const again = storeIn();
    expect((await cli(['login', '--swap-url', proxy.url, '--store', again])).code).toBe(0);
    const second = await calculateJwkThumbprint(JSON.parse(readFileSync(again, 'utf8')).dpopJwk, 'sha256');
    expect(second).not.toBe(thumbprint);
  });

  it('logs in at the service itself with --swap-url alone, and the refresh token it keeps is bound to its key', async () => {
    const store = storeIn();
    const login = await cli(['login', '--swap-url', plainUrl, '--store', store]);
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    expect(login.stdout).toContain(`${plainUrl}/sandbox/authorize?client_id=${SANDBOX_CLIENT_ID}&`);
    const stored = JSON.parse(readFileSync(store, 'utf8'));
    expect(stored.dpopJwk).toBeDefined();
    // Without a proof by the login's key, the stored refresh token is refused: a copy of the file's
    // token alone is not enough (RFC 9449), the key in it is needed too.
    const stolen = await fetch(`${plainUrl}/refresh`, {
      method: 'POST',
      body: new URLSearchParams({ refresh_token: stored.tokens.refreshToken }),
    });
    expect(stolen.status).toBe(400);
    expect(await stolen.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await cli(['refresh', '--store', store])).code).toBe(0);
  });
});
