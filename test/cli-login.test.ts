import { copyFileSync, existsSync, mkdtempSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli } from './helpers/cli.js';
import { waitForStdout } from './helpers/cli-stdout.js';
import { injectFault } from './helpers/sandbox-control.js';

let serviceUrl: string;
let rotatingUrl: string;

const running: CliRun[] = [];
function start(args: string[], env: Record<string, string> = {}) {
  const run = runCli(args, { env });
  running.push(run);
  return run;
}

async function startServer(args: string[]): Promise<[CliRun, string]> {
  const run = start(['serve', '--sandbox', '--port', '0', ...args]);
  const [, url] = await run.waitFor(/Swap service\s+(http:\/\/\S+)/);
  return [run, url ?? ''];
}

beforeAll(async () => {
  [, serviceUrl] = await startServer(['--auto-approve']);
  [, rotatingUrl] = await startServer(['--auto-approve', '--rotate']);
});
afterAll(async () => {
  for (const run of running) if (run.child.exitCode === null) run.child.kill('SIGKILL');
});

function storeIn(): string {
  return join(mkdtempSync(join(tmpdir(), 'cli-login-')), 'tokens.json');
}

function loginArgs(url: string, store: string, extra: string[] = []) {
  return [
    'login',
    '--swap-url',
    url,
    '--client-id',
    'sandbox-client-id',
    '--accounts-url',
    `${url}/sandbox`,
    '--no-open',
    '--store',
    store,
    ...extra,
  ];
}

/** Reads the authorize URL that login prints with --no-open. */
async function authorizeUrl(run: CliRun): Promise<string> {
  await waitForStdout(run, /Waiting for the redirect/);
  const [, url = ''] = await waitForStdout(run, /Open this URL in your browser to log in:\n {2}(\S+)/);
  return url;
}

/** Logs in headlessly: the sandbox auto-approves, fetch follows the redirect to the loopback catcher. */
async function login(url: string, store: string) {
  const run = start(loginArgs(url, store));
  const page = await fetch(await authorizeUrl(run));
  expect(await page.text()).toMatch(/Logged in as Sandbox User \([\w-]+\)\. You can close this window/);
  expect((await run.exited).code).toBe(0);
  return run;
}

async function cli(args: string[]) {
  const run = start(args);
  const { code } = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

describe('token-swap login and friends, end to end against serve --sandbox', () => {
  it('logs in headlessly, stores the tokens 0600, and never prints a token', async () => {
    const store = storeIn();
    const run = await login(serviceUrl, store);
    const out = run.stdout();
    expect(out).toMatch(/Logged in as Sandbox User \([\w-]+\)\./);
    expect(out).toContain('Scopes:        user-read-email user-read-private');
    expect(out).toMatch(/Access token: {2}valid until .* \(\d+ min left\)/);
    expect(statSync(store).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(store, 'utf8')));
    expect(out).not.toContain(saved.tokens.accessToken);
    expect(out).not.toContain(saved.tokens.refreshToken);
    expect(saved).toMatchObject({
      swapUrl: serviceUrl,
      clientId: 'sandbox-client-id',
      apiUrl: `${serviceUrl}/sandbox`,
    });
  });

  it('token prints a working access token and nothing else; status says who is logged in', async () => {
    const store = storeIn();
    await login(serviceUrl, store);
    const token = await cli(['token', '--store', store]);
    expect(token.code).toBe(0);
    expect(token.stdout).toMatch(/^BQ[\w-]+\n$/);
    expect(token.stderr).toBe('');
    const me = await fetch(`${serviceUrl}/sandbox/v1/me`, {
      headers: { Authorization: `Bearer ${token.stdout.trim()}` },
    });
    expect(me.status).toBe(200);

    const status = await cli(['status', '--store', store]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/Logged in as Sandbox User/);
    expect(status.stdout).toContain(`Swap service:  ${serviceUrl}`);
    expect(status.stdout).not.toContain(token.stdout.trim());
  });

  it('refresh gets a new access token; logout forgets the login; token then says to log in', async () => {
    const store = storeIn();
    await login(serviceUrl, store);
    const before = (await cli(['token', '--store', store])).stdout;
    const refresh = await cli(['refresh', '--store', store]);
    expect(refresh.code).toBe(0);
    expect(refresh.stdout).toMatch(/^Refreshed\. Access token valid until/);
    const after = (await cli(['token', '--store', store])).stdout;
    expect(after).not.toBe(before);

    const logout = await cli(['logout', '--store', store]);
    expect(logout.code).toBe(0);
    expect(existsSync(store)).toBe(false);
    const token = await cli(['token', '--store', store]);
    expect(token.code).toBe(3);
    expect(token.stdout).toBe('');
    expect(token.stderr).toContain('Not logged in. Run `token-swap login');
  });

  it('a revoked refresh token clears the login and tells the user to log in again (exit 3)', async () => {
    const store = storeIn();
    await login(rotatingUrl, store);
    const stale = `${store}.stale`;
    copyFileSync(store, stale);
    expect((await cli(['refresh', '--store', store])).code).toBe(0);
    const revoked = await cli(['refresh', '--store', stale]);
    expect(revoked.code).toBe(3);
    expect(revoked.stderr).toContain('Refresh token revoked');
    // The whole command, with what the login had: it can be run as it stands.
    expect(revoked.stderr).toContain(
      `Run \`token-swap login --swap-url ${rotatingUrl} --client-id sandbox-client-id --accounts-url ${rotatingUrl}/sandbox --store ${stale}\` to log in again.`,
    );
    expect(existsSync(stale)).toBe(false);
    expect((await cli(['token', '--store', store])).code).toBe(0);
  });

  it('parallel `token` processes with an expired token refresh once, even with rotation (file lock)', async () => {
    const store = storeIn();
    await login(rotatingUrl, store);
    const fs = await import('node:fs');
    const saved = JSON.parse(fs.readFileSync(store, 'utf8'));
    saved.tokens.expiresAt = Date.now() - 1_000;
    fs.writeFileSync(store, JSON.stringify(saved));
    const stats = async () =>
      (
        (await (await fetch(`${rotatingUrl}/sandbox/__sandbox/stats`)).json()) as {
          byGrant: { refresh_token: number };
        }
      ).byGrant.refresh_token;
    const before = await stats();
    // A slow first refresh makes every process arrive while it is still running.
    await fetch(`${rotatingUrl}/sandbox/__sandbox/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ kind: 'slow', delayMs: 1500 }),
    });
    const results = await Promise.all(Array.from({ length: 5 }, () => cli(['token', '--store', store])));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0, 0]);
    expect(new Set(results.map((r) => r.stdout)).size).toBe(1);
    expect(results[0]?.stdout).not.toContain(saved.tokens.accessToken);
    expect(await stats()).toBe(before + 1);
    expect(fs.existsSync(`${store}.lock`)).toBe(false);
  });

  it('says the swap service is unreachable (exit 4)', async () => {
    const result = await cli(['refresh', '--store', storeIn()]);
    expect(result.code).toBe(3);
    const store = storeIn();
    await login(serviceUrl, store);
    const saved = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(store, 'utf8')));
    saved.swapUrl = 'http://127.0.0.1:9';
    await import('node:fs').then((fs) => fs.writeFileSync(store, JSON.stringify(saved)));
    const down = await cli(['refresh', '--store', store]);
    expect(down.code).toBe(4);
    expect(down.stderr).toContain('Could not reach the swap service at http://127.0.0.1:9/refresh');
  });

  it('reports a cancelled login (exit 5) and stores nothing', async () => {
    const [manual, manualUrl] = await startServer([]);
    const store = storeIn();
    const run = start(loginArgs(manualUrl, store));
    const url = new URL(await authorizeUrl(run));
    const decided = await fetch(`${manualUrl}/sandbox/authorize`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams([...url.searchParams, ['decision', 'cancel']]),
      redirect: 'manual',
    });
    await fetch(decided.headers.get('location') ?? '');
    expect((await run.exited).code).toBe(5);
    expect(run.stderr()).toContain('Login cancelled in the browser.');
    expect(existsSync(store)).toBe(false);
    manual.child.kill('SIGTERM');
  });

  it("the login loopback page says 'Logged in' only after the state check and the swap, and what failed otherwise", async () => {
    const store = storeIn();
    const run = start(loginArgs(serviceUrl, store));
    const url = await authorizeUrl(run);
    // Accounts fails the code exchange: the state check passes, the swap does not.
    await injectFault(`${serviceUrl}/sandbox`, { kind: 'status', status: 503, count: 1 });
    const page = await fetch(url);
    const html = await page.text();
    expect(html).toContain('<h1 id="result">Login failed</h1>');
    expect(html).toContain('The swap service could not get tokens (upstream_error:');
    expect(html).not.toContain('Logged in');
    expect(page.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect((await run.exited).code).toBe(4);
    expect(run.stderr()).toContain('token-swap: The swap service could not get tokens (upstream_error:');
    expect(existsSync(store)).toBe(false);
  });

  it('a redirect with the wrong state does not end the login: the browser gets a 400 page, the login goes on', async () => {
    const store = storeIn();
    const run = start(loginArgs(serviceUrl, store));
    const authorize = await authorizeUrl(run);
    const redirectUri = new URL(authorize).searchParams.get('redirect_uri');
    const forged = await fetch(`${redirectUri}?code=AQforged&state=forged`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('does not belong to the login waiting here');
    expect(run.child.exitCode).toBeNull();
    // The user's own redirect, after the forged one: logged in.
    const page = await fetch(authorize);
    expect(await page.text()).toContain('Logged in as Sandbox User');
    expect((await run.exited).code).toBe(0);
    expect(existsSync(store)).toBe(true);
  });

  it('a login that only got foreign redirects times out, says so, and prints the command to run again (exit 5)', async () => {
    const store = storeIn();
    const run = start(loginArgs(serviceUrl, store, ['--timeout', '1']));
    const redirectUri = new URL(await authorizeUrl(run)).searchParams.get('redirect_uri');
    expect((await fetch(`${redirectUri}?code=AQforged&state=forged`)).status).toBe(400);
    expect((await run.exited).code).toBe(5);
    expect(run.stderr()).toBe(
      `token-swap: No redirect arrived within 1 s (1 other request was refused: another state, or another address). Run it again, and finish it in the browser: token-swap login --swap-url ${serviceUrl} --client-id sandbox-client-id --accounts-url ${serviceUrl}/sandbox --store ${store}\n`,
    );
    expect(existsSync(store)).toBe(false);
  });

  it('checks that the swap service answers before sending the user to the consent page (exit 4)', async () => {
    // Nothing listens there: the browser must not open for a code nobody can swap.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const nobody = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const down = await cli(loginArgs(nobody, storeIn()));
    expect(down.code).toBe(4);
    expect(down.stdout).toBe('');
    expect(down.stderr).toBe(
      `token-swap: No swap service answers at ${nobody} (ECONNREFUSED); the browser was not opened. Is the service running, and is --swap-url right? To try the flow without one: token-swap serve --sandbox\n`,
    );
    // Something answers, but no swap service is there (an app the service does not have).
    const wrong = await cli(loginArgs(`${serviceUrl}/apps/nope`, storeIn()));
    expect(wrong.code).toBe(4);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toContain(`token-swap: ${serviceUrl}/apps/nope/swap answered HTTP 404`);
  });

  it('explains a missing option (exit 2)', async () => {
    const result = await cli(['login', '--no-open']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--swap-url is required (or set TOKEN_SWAP_URL)');
    const scope = await cli([
      'login',
      '--swap-url',
      serviceUrl,
      '--client-id',
      'x',
      '--scope',
      'user-read-email,admin',
    ]);
    expect(scope.code).toBe(2);
    expect(scope.stderr).toContain('Unknown scope: admin');
  });
});
