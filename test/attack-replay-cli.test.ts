/**
 * Issue 12's proof, for the CLI (`bin/token-swap.js`, spawned): each attack on it replayed, from a
 * malformed config file (5) and a doctor run with a URL that failed validation (6) to malicious swap
 * services (14-17, small `node:http` peers answering what an attacker would) and requests to the
 * loopback catcher of a real login against a spawned `token-swap serve --sandbox` (18). Each is
 * refused with a clear message, nothing is stored or printed that came from a malformed answer, and
 * the store keeps working. The service's and the sandbox's points are in attack-replay.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { emptyDir, runCli } from './helpers/cli.js';
import { waitForStdout } from './helpers/cli-stdout.js';
import {
  type HostileHandler,
  type HostilePeer,
  sendJson,
  startHostilePeer,
  storedLogin,
} from './helpers/hostile-peer.js';
import { expectHealthy, type Spawned, spawnServer, stop } from './helpers/replay.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;
const GOOD = {
  access_token: 'BQgood-access-token',
  token_type: 'Bearer',
  expires_in: 3600,
  scope: 'user-read-email',
};

const peers: HostilePeer[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
});
async function peer(handler: HostileHandler): Promise<HostilePeer> {
  const started = await startHostilePeer(handler);
  peers.push(started);
  return started;
}

/** Runs `token-swap <command> --store <a login whose refresh the peer answers>` and waits for it. */
async function againstPeer(command: string, hostile: HostilePeer, store = join(emptyDir(), 'tokens.json')) {
  if (!safeExists(store)) await storedLogin(store, { swapUrl: hostile.url, apiUrl: hostile.url });
  const run = runCli([command, '--store', store]);
  const { code } = await run.exited;
  return { code, out: run.stdout(), err: run.stderr(), store };
}

function safeExists(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

describe('the CLI, under each attack of issue 12', () => {
  // Regression tests: test/config-file-errors.test.ts.
  it('5: a malformed apps file is reported by line and column, its secret never printed', async () => {
    const cwd = emptyDir();
    const secret = 'SUPERSECRET-0123456789abcdef';
    writeFileSync(join(cwd, 'token-swap.config.json'), `{"apps": {"web": {"clientSecret": ${secret}}}}`);
    const run = runCli(['serve'], { cwd });
    expect((await run.exited).code).toBe(1);
    expect(run.stderr()).toMatch(/token-swap\.config\.json: not valid JSON \(line 1, column \d+/);
    expect(run.stderr() + run.stdout()).not.toContain('SUPERSECRET');
  });

  // Regression tests: test/doctor.test.ts (an Accounts URL that failed validation is not probed).
  it('6: doctor sends no credentials to an Accounts URL that failed validation', async () => {
    const listener = await peer((_request, response) => sendJson(response, 200, {}));
    for (const accountsUrl of [`${listener.url}/?via=plain`, listener.url.replace('//', '//user:pw@')]) {
      const run = runCli(['doctor'], {
        env: {
          SPOTIFY_CLIENT_ID: 'a'.repeat(32),
          SPOTIFY_CLIENT_SECRET: 'b'.repeat(32),
          // Another problem beside the URL, as in the review.
          SPOTIFY_REDIRECT_URI: 'http://example.com/cb',
          SPOTIFY_ACCOUNTS_URL: accountsUrl,
          ENCRYPTION_SECRET: 'none',
        },
      });
      expect((await run.exited).code, accountsUrl).toBe(1);
      expect(run.stdout() + run.stderr()).toContain('SPOTIFY_ACCOUNTS_URL');
      expect(run.stdout() + run.stderr()).not.toContain('b'.repeat(32));
    }
    expect(listener.requests).toEqual([]);
  });

  // Regression tests: test/client/swap-client.test.ts ('stops reading an endless body at the cap').
  it('14: an endless answer is cut at the cap with a clear error, the process never bloats', async () => {
    let written = 0;
    const endless = await peer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = Buffer.alloc(256 * 1024, 0x61);
      const write = () => {
        // Bounded: 64 MiB at most, should the client never stop reading.
        while (written < 64 * 2 ** 20 && !response.destroyed) {
          written += chunk.length;
          if (!response.write(chunk)) return response.once('drain', write);
        }
        response.end();
      };
      write();
    });
    const { code, out, err } = await againstPeer('refresh', endless);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(/invalid_response: .*over \d+ bytes/);
    expect(written).toBeLessThan(64 * 2 ** 20);
  });

  // Regression tests: test/client/swap-client.test.ts ('never follows a redirect with the secret').
  it('15: a cross-origin 307 is not followed with the refresh token, and says so', async () => {
    const elsewhere = await peer((_request, response) =>
      sendJson(response, 200, { ...GOOD, access_token: 'BQstolen' }),
    );
    const redirecting = await peer((_request, response) => {
      response.writeHead(307, { Location: `${elsewhere.url}/refresh` }).end();
    });
    const { code, out, err } = await againstPeer('token', redirecting);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toContain('redirect');
    expect(elsewhere.requests).toEqual([]);
  });

  // Regression tests: test/client/swap-client.test.ts ('a bad lifetime'), test/cli-expiry.test.ts.
  it('16: expires_in 1e306 is refused, and the stored login keeps working', async () => {
    let hostile = true;
    const service = await peer((_request, response) => {
      const body = hostile ? JSON.stringify({ ...GOOD, expires_in: 1e306 }).replace('1e+306', '1e306') : GOOD;
      sendJson(response, 200, body);
    });
    const first = await againstPeer('refresh', service);
    expect(first.code).toBe(1);
    expect(first.err).toContain('malformed token response (expires_in)');
    expect(first.out + first.err).not.toMatch(/Infinity|Invalid Date/);
    const stored = readFileSync(first.store, 'utf8');
    hostile = false;
    const next = await againstPeer('token', service, first.store);
    expect(next).toMatchObject({ code: 0, out: 'BQgood-access-token\n' });
    expect(stored).not.toContain('BQgood');
  });

  // Regression tests: test/cli-terminal-injection.test.ts.
  it('17: escape sequences from the network never reach the terminal, a token with a newline is refused', async () => {
    const describing = await peer((_request, response) =>
      sendJson(response, 400, {
        error: 'invalid_request',
        error_description: 'Bad\u001b[2J\u001b]0;pwned\u0007 token\r',
      }),
    );
    const refused = await againstPeer('refresh', describing);
    expect(refused.code).toBe(1);
    expect(refused.err).toBe('token-swap: The swap service refused the request (invalid_request).\n');
    expect(refused.out + refused.err).not.toMatch(CONTROL);
    const injecting = await peer((_request, response) =>
      sendJson(response, 200, { ...GOOD, access_token: 'BQok\nrm -rf ~' }),
    );
    const token = await againstPeer('token', injecting);
    expect(token.code).toBe(1);
    expect(token.out).toBe('');
    expect(token.err).toContain('malformed token response (access_token)');
    expect(token.err).not.toContain('rm -rf');
  });
});

/** GETs `url` with a Host header of its own choosing (fetch would not send another) and returns the status. */
function status(url: string, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = get(url, { headers: host ? { Host: host } : {} }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
  });
}

describe('18: requests to the loopback catcher of a running login', () => {
  let serve: Spawned;
  beforeAll(async () => {
    serve = await spawnServer(['serve', '--sandbox'], /Swap service\s+(http:\/\/\S+)/);
  }, 30_000);
  afterAll(async () => {
    expect(await stop(serve)).toEqual({ code: 0, signal: null });
  });

  // Regression tests: test/client/loopback.test.ts, test/cli-login.test.ts.
  it('a wrong state, another Host or a flood get a 400 page and the login still ends with the real one', async () => {
    const store = join(emptyDir(), 'tokens.json');
    const login = runCli([
      'login',
      '--swap-url',
      serve.url,
      '--client-id',
      'sandbox-client-id',
      '--accounts-url',
      `${serve.url}/sandbox`,
      '--no-open',
      '--store',
      store,
    ]);
    try {
      const [, authorize = ''] = await waitForStdout(
        login,
        /Open this URL in your browser to log in:\n {2}(\S+)/,
      );
      const params = new URL(authorize).searchParams;
      const callback = new URL(params.get('redirect_uri') ?? '');
      const state = params.get('state') ?? '';
      await waitForStdout(login, /Waiting for the redirect/);
      // A local process or a DNS-rebinding page: bounded, 40 wrong requests.
      const wrong = [
        ...Array.from({ length: 38 }, (_, i) => status(`${callback}?code=AQstolen&state=guess-${i}`)),
        status(`${callback}?code=AQstolen`),
        status(`${callback}?code=AQstolen&state=${state}`, `evil.example:${callback.port}`),
      ];
      expect(new Set(await Promise.all(wrong))).toEqual(new Set([400]));
      expect(login.child.exitCode).toBeNull();
      // The person clicks Agree (curl-like: the consent form's own rules), the browser follows.
      const decided = await fetch(`${serve.url}/sandbox/authorize`, {
        method: 'POST',
        body: new URLSearchParams([...params, ['decision', 'agree']]),
        redirect: 'manual',
      });
      expect(await status(decided.headers.get('location') ?? '')).toBe(200);
      expect((await login.exited).code).toBe(0);
      expect(login.stdout()).toMatch(/Logged in as Sandbox User/);
      await expectHealthy(serve.url);
    } finally {
      if (login.child.exitCode === null) login.child.kill('SIGKILL');
    }
  }, 30_000);
});
