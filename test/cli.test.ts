import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { basicAuthorization } from '../src/server/upstream/token-request.js';
import { type CliRun, emptyDir, runCli } from './helpers/cli.js';
import { injectFault, tokenCalls } from './helpers/sandbox-control.js';

const running: CliRun[] = [];
afterEach(() => {
  for (const run of running.splice(0)) {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
  }
});

function start(args: string[], options: Parameters<typeof runCli>[1] = {}) {
  const run = runCli(args, options);
  running.push(run);
  return run;
}

/** Walks the sandbox consent page as a browser would: GET the page, POST its form with Agree. */
async function consent(accountsUrl: string, redirectUri: string, clientId: string): Promise<string> {
  const query = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'user-read-email',
    state: 'xyz',
  });
  const page = await fetch(`${accountsUrl}/authorize?${query}`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('Agree');
  const decided = await fetch(`${accountsUrl}/authorize`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams([...query, ['decision', 'agree']]),
    redirect: 'manual',
  });
  expect(decided.status).toBe(302);
  const location = new URL(decided.headers.get('location') ?? '');
  expect(location.searchParams.get('state')).toBe('xyz');
  return location.searchParams.get('code') ?? '';
}

describe('token-swap CLI', () => {
  it('prints help with its subcommands', async () => {
    const run = start(['--help']);
    const { code } = await run.exited;
    expect(code).toBe(0);
    const help = run.stdout() + run.stderr();
    expect(help).toContain('serve');
    expect(help).toContain('sandbox');
  });

  it('unknown commands and unknown flags are bad usage: exit 2 with a "did you mean"', async () => {
    const command = start(['sandbx']);
    expect((await command.exited).code).toBe(2);
    expect(command.stderr()).toContain('token-swap: Unknown command "sandbx". Did you mean sandbox?');
    // Without the check, this sandbox would start and run until killed.
    const flag = start(['sandbox', '--port', '0', '--auto-aprove']);
    expect((await flag.exited).code).toBe(2);
    expect(flag.stderr()).toContain(
      'Unknown option --auto-aprove for token-swap sandbox. Did you mean --auto-approve?',
    );
    const none = start([]);
    expect((await none.exited).code).toBe(2);
    expect(none.stderr()).toContain('USAGE token-swap');
  });

  it('prints no ANSI colour when its output is not a terminal', async () => {
    // The helper's environment has neither NO_COLOR nor CI, in which citty colours its usage.
    const help = start(['serve', '--help']);
    expect((await help.exited).code).toBe(0);
    expect(help.stdout()).toContain('USAGE token-swap serve [OPTIONS]');
    const error = start(['serve', '--bogus']);
    expect((await error.exited).code).toBe(2);
    expect(error.stderr()).toContain('USAGE token-swap serve [OPTIONS]');
    for (const output of [help.stdout(), error.stderr()]) {
      expect(output).not.toContain('\u001b[');
    }
  });

  it('exits non-zero naming every missing variable, and suggests the sandbox when nothing is configured', async () => {
    const run = start(['serve']);
    expect((await run.exited).code).toBe(1);
    expect(run.stderr()).toContain('SPOTIFY_CLIENT_ID: is required');
    expect(run.stderr()).toContain('SPOTIFY_CLIENT_SECRET: is required');
    expect(run.stderr()).toContain('SPOTIFY_REDIRECT_URI: is required');
    expect(run.stderr()).toContain('ENCRYPTION_SECRET: is required');
    expect(run.stderr()).toContain(
      'No Spotify app is configured. To try the service without one, with a fake Spotify Accounts:\n  token-swap serve --sandbox\n',
    );
    expect(run.stderr()).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('refuses to serve a Spotify app without a sealing secret, saying how to get one or opt out', async () => {
    const app = {
      SPOTIFY_CLIENT_ID: 'id',
      SPOTIFY_CLIENT_SECRET: 'cli-test-client-secret-value-0002',
      SPOTIFY_REDIRECT_URI: 'myapp://callback',
    };
    const refused = start(['serve', '--port', '0'], { env: app });
    expect((await refused.exited).code).toBe(1);
    expect(refused.stderr()).toBe(
      'token-swap: Invalid configuration:\n  - ENCRYPTION_SECRET: is required: refresh tokens are sealed by default. Generate a secret with `token-swap secret` (or `openssl rand -base64 48`) and set it here; or, to hand refresh tokens to clients unsealed, opt out with ENCRYPTION_SECRET=none\n',
    );

    // The secret the message points to is one the service takes.
    const secret = start(['secret']);
    expect((await secret.exited).code).toBe(0);
    const sealed = start(['serve', '--port', '0'], {
      env: { ...app, ENCRYPTION_SECRET: secret.stdout().trim() },
    });
    const [, url] = await sealed.waitFor(/listening on (http:\/\/\S+)/);
    expect(sealed.stderr()).toMatch(/default\s+POST \S+\/swap, POST \S+\/refresh\s+\(sealing on,/);
    const root = (await (await fetch(`${url}/`)).json()) as { apps: Record<string, { sealing: string }> };
    expect(root.apps.default?.sealing).toBe('on');
    sealed.child.kill('SIGTERM');
    expect((await sealed.exited).code).toBe(0);
  });

  it('token-swap secret prints 48 fresh random bytes in base64, alone on stdout', async () => {
    const runs = [start(['secret']), start(['secret'])];
    const outputs: string[] = [];
    for (const run of runs) {
      expect(await run.exited).toEqual({ code: 0, signal: null });
      expect(run.stderr()).toBe('');
      // What `openssl rand -base64 48` prints: 64 characters, no padding, one line.
      expect(run.stdout()).toMatch(/^[A-Za-z0-9+/]{64}\n$/);
      expect(Buffer.from(run.stdout().trim(), 'base64')).toHaveLength(48);
      outputs.push(run.stdout());
    }
    expect(outputs[0]).not.toBe(outputs[1]);
  });

  it('refuses a short sealing secret and bad values without printing any secret', async () => {
    const clientSecret = 'cli-test-client-secret-value-0001';
    const shortSecret = 'short-sealing-secret';
    const run = start(['serve', '--port', 'eighty'], {
      env: {
        SPOTIFY_CLIENT_ID: 'id',
        SPOTIFY_CLIENT_SECRET: clientSecret,
        SPOTIFY_REDIRECT_URI: 'http://localhost:8888/callback',
        ENCRYPTION_SECRET: shortSecret,
      },
    });
    expect((await run.exited).code).toBe(1);
    const output = run.stderr() + run.stdout();
    expect(output).toContain('ENCRYPTION_SECRET: secret #1 is shorter than 32 characters');
    expect(output).toContain('SPOTIFY_REDIRECT_URI:');
    expect(output).toContain('PORT: must be a whole number');
    expect(output).not.toContain(clientSecret);
    expect(output).not.toContain(shortSecret);
  });

  it('says which port is taken instead of crashing', async () => {
    const first = start(['sandbox', '--port', '0']);
    const [, url] = await first.waitFor(/listening on (http:\/\/\S+)/);
    const port = new URL(url ?? '').port;
    const second = start(['sandbox', '--port', port]);
    expect((await second.exited).code).toBe(1);
    expect(second.stderr()).toContain(`cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
  });

  it('serve --sandbox runs the whole flow, logs no secret at debug level, and exits 0 on SIGTERM', async () => {
    const sealingSecret = 'cli-sealing-secret-0123456789-abcdefghij';
    const run = start(['serve', '--sandbox', '--port', '0'], {
      env: { LOG_LEVEL: 'debug', ENCRYPTION_SECRET: sealingSecret },
    });
    const [, serviceUrl] = await run.waitFor(/Swap service\s+(http:\/\/\S+)/);
    const [, clientId] = await run.waitFor(/Client ID\s+(\S+)/);
    const [, clientSecret] = await run.waitFor(/Client secret\s+(\S+)/);
    await run.waitFor(/See the whole flow in a browser: http:\/\/\S+\/demo/);

    const redirectUri = 'http://127.0.0.1:8888/callback';
    const code = await consent(`${serviceUrl}/sandbox`, redirectUri, clientId ?? '');
    const swap = await fetch(`${serviceUrl}/swap`, {
      method: 'POST',
      body: new URLSearchParams({ code, redirect_uri: redirectUri }),
    });
    expect(swap.status).toBe(200);
    const tokens = (await swap.json()) as { access_token: string; refresh_token: string };
    expect(tokens.refresh_token.startsWith('sts2.')).toBe(true);
    const refresh = await fetch(`${serviceUrl}/refresh`, {
      method: 'POST',
      body: new URLSearchParams({ refresh_token: tokens.refresh_token }),
    });
    expect(refresh.status).toBe(200);
    const refreshed = (await refresh.json()) as { access_token: string };

    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });

    const logs = run.stdout();
    expect(logs).toContain('"msg":"request"');
    expect(logs).toContain('"msg":"spotify token call"');
    for (const secret of [
      code,
      tokens.access_token,
      tokens.refresh_token,
      refreshed.access_token,
      sealingSecret,
      clientSecret ?? '',
      basicAuthorization(clientId ?? '', clientSecret ?? '').slice(6),
    ]) {
      expect(secret.length).toBeGreaterThan(10);
      expect(logs).not.toContain(secret);
    }
  });

  it('serve --sandbox seals with a secret of its own for the run, and its banner lists the demo callback', async () => {
    const first = start(['serve', '--sandbox', '--port', '0']);
    const [, serviceUrl = ''] = await first.waitFor(/Swap service\s+(http:\/\/\S+)/);
    expect(first.stderr()).toContain(
      '  Sealing          on (a secret for this run: refresh tokens of an earlier run are refused)\n',
    );
    expect(first.stderr()).toContain(
      `  Redirect URIs    http://127.0.0.1/callback, http://[::1]/callback, ${serviceUrl}/demo/callback\n`,
    );
    const redirectUri = 'http://127.0.0.1:8888/callback';
    const code = await consent(`${serviceUrl}/sandbox`, redirectUri, 'sandbox-client-id');
    const swap = await fetch(`${serviceUrl}/swap`, {
      method: 'POST',
      body: new URLSearchParams({ code, redirect_uri: redirectUri }),
    });
    const { refresh_token: sealed } = (await swap.json()) as { refresh_token: string };
    expect(sealed).toMatch(/^sts2\./);
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);

    // The next run has another secret: the old token is refused before any call to Accounts.
    const second = start(['serve', '--sandbox', '--port', '0']);
    const [, nextUrl = ''] = await second.waitFor(/Swap service\s+(http:\/\/\S+)/);
    const before = await tokenCalls(`${nextUrl}/sandbox`);
    const refresh = await fetch(`${nextUrl}/refresh`, {
      method: 'POST',
      body: new URLSearchParams({ refresh_token: sealed }),
    });
    expect([refresh.status, await refresh.json()]).toEqual([
      400,
      { error: 'invalid_grant', error_description: 'Invalid refresh token' },
    ]);
    expect(await tokenCalls(`${nextUrl}/sandbox`)).toBe(before);
  });

  it('finishes an in-flight request on SIGTERM, then exits 0', async () => {
    // Unsealed, so that a made-up refresh token reaches the (slow) Accounts.
    const run = start(['serve', '--sandbox', '--port', '0', '--auto-approve'], {
      env: { ENCRYPTION_SECRET: 'none' },
    });
    const [, serviceUrl] = await run.waitFor(/Swap service\s+(http:\/\/\S+)/);
    expect(run.stderr()).toContain('  Sealing          off (ENCRYPTION_SECRET=none)\n');
    // The opt-out is warned about, once. (stdout is another pipe than the banner's.)
    await expect.poll(() => run.stdout()).toContain('"msg":"listening"');
    expect(
      run.stdout().match(/ENCRYPTION_SECRET=none: refresh tokens are handed to clients unsealed/g),
    ).toHaveLength(1);
    const accountsUrl = `${serviceUrl}/sandbox`;
    await injectFault(accountsUrl, { kind: 'slow', delayMs: 1500 });
    const before = await tokenCalls(accountsUrl);
    const inFlight = fetch(`${serviceUrl}/refresh`, {
      method: 'POST',
      body: new URLSearchParams({ refresh_token: 'AQunknown' }),
    });
    // SIGTERM once the refresh is inside the service, waiting on the slow Accounts.
    await expect.poll(() => tokenCalls(accountsUrl)).toBe(before + 1);
    run.child.kill('SIGTERM');
    const response = await inFlight;
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid refresh token',
    });
    expect(await run.exited).toEqual({ code: 0, signal: null });
    await expect(fetch(`${serviceUrl}/healthz`)).rejects.toThrow();
  });

  it('reads a .env file from the working directory', async () => {
    const cwd = emptyDir();
    writeFileSync(
      join(cwd, '.env'),
      [
        'SPOTIFY_CLIENT_ID=from-dotenv',
        'SPOTIFY_CLIENT_SECRET=dotenv-secret-value-0123456789',
        'SPOTIFY_REDIRECT_URI=myapp://callback',
        'ENCRYPTION_SECRET=dotenv-sealing-secret-0123456789-abcdefgh',
        'PORT=0',
      ].join('\n'),
    );
    const run = start(['serve'], { cwd });
    const [, url] = await run.waitFor(/listening on (http:\/\/\S+)/);
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    run.child.kill('SIGINT');
    expect((await run.exited).code).toBe(0);
  });

  // Two CLI starts, one of them through npx: slow on a busy two-core machine (the poll below allows 30 s).
  it('token-swap sandbox prints the serve command that uses it, and it works as printed', {
    timeout: 60_000,
  }, async () => {
    const sandbox = start(['sandbox', '--port', '0']);
    const [, printed = ''] = await sandbox.waitFor(/Point a swap service at it:\n {2}(.+)\n/);
    // Only the port is changed, to a free one.
    const service = spawn('bash', ['-c', printed.replace('--port 3000', '--port 0')], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    service.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const closed = new Promise((resolve) => service.on('close', resolve));
    try {
      await expect
        .poll(() => stderr, { timeout: 30_000, interval: 100 })
        .toMatch(/listening on http:\/\/\S+/);
      const serviceUrl = /listening on (http:\/\/\S+)/.exec(stderr)?.[1] ?? '';
      expect(stderr).toMatch(/sealing on, upstream http:\/\/127\.0\.0\.1:\d+\)/);
      const [, accountsUrl = ''] = (await sandbox.waitFor(/listening on (http:\/\/\S+)/)) ?? [];
      const redirectUri = 'http://127.0.0.1:8888/callback';
      const code = await consent(accountsUrl, redirectUri, 'sandbox-client-id');
      const swap = await fetch(`${serviceUrl}/swap`, {
        method: 'POST',
        body: new URLSearchParams({ code, redirect_uri: redirectUri }),
      });
      expect(swap.status).toBe(200);
      expect(((await swap.json()) as { refresh_token: string }).refresh_token).toMatch(/^sts2\./);
    } finally {
      if (service.pid !== undefined) process.kill(-service.pid, 'SIGTERM');
      await closed;
    }
  });

  it('runs the sandbox alone', async () => {
    const run = start(['sandbox', '--port', '0']);
    const [, url] = await run.waitFor(/listening on (http:\/\/\S+)/);
    const query = new URLSearchParams({
      client_id: 'nope',
      response_type: 'code',
      redirect_uri: 'http://127.0.0.1:8888/callback',
    });
    const page = await fetch(`${url}/authorize?${query}`);
    expect(await page.text()).toContain('INVALID_CLIENT: Invalid client');
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
  });
});
