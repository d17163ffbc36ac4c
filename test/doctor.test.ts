import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox } from '../src/sandbox/index.js';
import { runCli } from './helpers/cli.js';
import { type Listening, listen } from './helpers/listen.js';

// Shaped like real Spotify credentials (32 hex characters), so that no shape warning is expected.
const ID = '0123456789abcdef0123456789abcdef';
const SECRET = 'fedcba9876543210fedcba9876543210';
const SEALING = 'q8VvJ3mK1xZ0pR7tL2wN5yB4cD6fG9hS0aE3uI8oP1kM';

let accounts: Listening;
beforeAll(async () => {
  accounts = await listen(
    createSandbox({ clients: [{ clientId: ID, clientSecret: SECRET, redirectUris: ['myapp://callback'] }] })
      .app.fetch,
  );
});
afterAll(() => accounts.close());

async function doctor(env: Record<string, string>, args: string[] = []) {
  const run = runCli(['doctor', ...args], {
    env: {
      SPOTIFY_CLIENT_ID: ID,
      SPOTIFY_CLIENT_SECRET: SECRET,
      SPOTIFY_REDIRECT_URI: 'myapp://callback',
      SPOTIFY_ACCOUNTS_URL: accounts.url,
      ENCRYPTION_SECRET: SEALING,
      ...env,
    },
  });
  const { code } = await run.exited;
  return { code, out: run.stdout() + run.stderr() };
}

describe('token-swap doctor', () => {
  it('passes a good configuration: URIs, credentials, sealing, reachability, clock', async () => {
    const { code, out } = await doctor({});
    expect(out).toContain('✓ Redirect URI myapp://callback: allowed');
    expect(out).toContain('✓ Credentials: accepted by Spotify');
    expect(out).toMatch(/✓ Spotify Accounts at http:\/\/127\.0\.0\.1:\d+: reachable/);
    expect(out).toMatch(/✓ Clock: within 30 s/);
    expect(out).toContain('No problem found.');
    expect(code).toBe(0);
  });

  it('ends with where the common failures and their fixes are written down, a file that exists', async () => {
    // After a clean bill of health and after a failure alike.
    const envs: Record<string, string>[] = [{}, { SPOTIFY_REDIRECT_URI: 'http://localhost:8888/callback' }];
    for (const env of envs) {
      const { code, out } = await doctor(env, ['--offline']);
      expect(code).toBe(env.SPOTIFY_REDIRECT_URI ? 1 : 0);
      const last = out.trimEnd().split('\n').at(-1) ?? '';
      expect(last).toBe('Common failures, with their causes and fixes: docs/troubleshooting.md');
      expect(existsSync(new URL(`../${last.split(': ')[1]}`, import.meta.url))).toBe(true);
    }
  });

  it('tells a wrong secret from a wrong client id, by what Spotify answered, without printing either', async () => {
    const secret = await doctor({ SPOTIFY_CLIENT_SECRET: '00000000000000000000000000000000' });
    expect(secret.code).toBe(1);
    expect(secret.out).toContain('✗ Credentials: refused by Spotify: invalid_client (Invalid client secret)');
    expect(secret.out).toContain('Fix: SPOTIFY_CLIENT_SECRET is wrong');
    expect(secret.out).not.toContain('00000000000000000000000000000000');
    expect(secret.out).not.toContain(SEALING);

    const client = await doctor({ SPOTIFY_CLIENT_ID: 'ffffffffffffffffffffffffffffffff' });
    expect(client.code).toBe(1);
    expect(client.out).toContain('Fix: SPOTIFY_CLIENT_ID is wrong');
  });

  it("judges redirect URIs by Spotify's rules and says how to fix each", async () => {
    const { code, out } = await doctor({
      SPOTIFY_REDIRECT_URI:
        'http://localhost:8888/callback,http://example.com/cb,http://127.0.0.1:8888/callback,https://app.example.com/cb/,myapp://callback',
    });
    expect(code).toBe(1);
    expect(out).toContain('✗ Redirect URI http://localhost:8888/callback: uses localhost');
    expect(out).toContain('Fix: Use http://127.0.0.1:8888/callback here and in the Spotify dashboard');
    expect(out).toContain('✗ Redirect URI http://example.com/cb: uses plain http');
    expect(out).toContain('Fix: Use https://example.com/cb');
    expect(out).toContain(
      '! Redirect URI http://127.0.0.1:8888/callback: a loopback URI with a port matches only that port',
    );
    expect(out).toContain('Register http://127.0.0.1/callback (no port)');
    expect(out).toContain('! Redirect URI https://app.example.com/cb/: ends with a slash');
    // The rest is still checked although the configuration does not load.
    expect(out).toContain('✓ Credentials: accepted by Spotify');
  });

  it('fails a missing sealing secret, warns about an opt-out, a typed-looking secret and a credential that is not Spotify-shaped', async () => {
    // The service refuses to start without one: a problem to fix, with how, not a warning.
    const missing = await doctor({ ENCRYPTION_SECRET: '' });
    expect(missing.out).toContain(
      '✗ ENCRYPTION_SECRET: not set: the service refuses to start without a sealing secret',
    );
    expect(missing.out).toContain('Set ENCRYPTION_SECRET=$(token-swap secret)');
    expect(missing.out).toContain('set ENCRYPTION_SECRET=none');
    expect(missing.out).not.toContain('See the configuration table');
    expect(missing.code).toBe(1);
    const optedOut = await doctor({ ENCRYPTION_SECRET: 'none' });
    expect(optedOut.out).toContain('! ENCRYPTION_SECRET: none: sealing is off by choice');
    expect(optedOut.code).toBe(0);
    const typed = await doctor({ ENCRYPTION_SECRET: 'abcabcabcabcabcabcabcabcabcabcabcabc' });
    expect(typed.out).toContain('! ENCRYPTION_SECRET #1: uses only 3 distinct characters');
    expect(typed.out).not.toContain('abcabcabcabc');
    const shape = await doctor({ SPOTIFY_CLIENT_ID: 'my-client' }, ['--offline']);
    expect(shape.out).toContain('! Client ID: "my-client" does not look like a Spotify client id');
  });

  it('reports an unreachable Accounts service', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { code, out } = await doctor({ SPOTIFY_ACCOUNTS_URL: `http://127.0.0.1:${port}` });
    expect(code).toBe(1);
    expect(out).toContain('unreachable (connection failed)');
    expect(out).toContain('Fix: Check DNS, the firewall and any outbound proxy');
  });

  it("notices a clock far from Spotify's", async () => {
    // An Accounts stand-in whose clock is ten minutes behind this machine's.
    const skewed: Server = createServer((_, response) => {
      response.writeHead(400, {
        'Content-Type': 'application/json',
        Date: new Date(Date.now() - 600_000).toUTCString(),
      });
      response.end('{"error":"invalid_grant","error_description":"Invalid authorization code"}');
    });
    await new Promise<void>((resolve) => skewed.listen(0, '127.0.0.1', resolve));
    try {
      const port = (skewed.address() as AddressInfo).port;
      const { code, out } = await doctor({ SPOTIFY_ACCOUNTS_URL: `http://127.0.0.1:${port}` });
      expect(code).toBe(1);
      expect(out).toMatch(/✗ Clock: this machine is (599|600|601) s ahead of Spotify/);
      expect(out).toContain('Fix: Synchronize the clock');
    } finally {
      await new Promise((resolve) => skewed.close(resolve));
    }
  });

  it('skips the network with --offline', async () => {
    const { code, out } = await doctor({ SPOTIFY_ACCOUNTS_URL: 'http://127.0.0.1:9' }, ['--offline']);
    expect(out).not.toContain('Spotify Accounts at');
    expect(code).toBe(0);
  });
});
