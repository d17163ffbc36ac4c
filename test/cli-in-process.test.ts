/**
 * `token-swap` run in-process through its runner, with an `io` that captures what it prints: exit
 * codes, usage errors, the app-side commands' messages, and how long-running commands stop.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { createFileStore } from '../src/client/node/index.js';
import { memoryIo } from './helpers/cli-io.js';
import { injectFault, tokenCalls } from './helpers/sandbox-control.js';

function storeIn(): string {
  return join(mkdtempSync(join(tmpdir(), 'cli-in-process-')), 'tokens.json');
}

async function run(args: string[], env: Record<string, string> = {}) {
  const io = memoryIo(env);
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

/** Each command's definition, to read its options (vite resolves only literal import paths). */
const commandModules = {
  serve: () => import('../src/cli/commands/serve.js'),
  sandbox: () => import('../src/cli/commands/sandbox.js'),
  login: () => import('../src/cli/commands/login.js'),
  token: () => import('../src/cli/commands/token.js'),
  refresh: () => import('../src/cli/commands/refresh.js'),
  status: () => import('../src/cli/commands/status.js'),
  logout: () => import('../src/cli/commands/logout.js'),
  doctor: () => import('../src/cli/commands/doctor.js'),
};

/** A stack trace's frame, as Node prints one. */
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

describe('token-swap usage', () => {
  it('a missing command prints the usage and exits 2', async () => {
    const { code, out, err } = await run([]);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain('USAGE token-swap serve|sandbox|login|token|refresh|status|logout|doctor|secret');
    expect(err.trimEnd().split('\n').at(-1)).toBe('token-swap: No command given.');
  });

  it('an unknown command is bad usage: exit 2, with a "did you mean"', async () => {
    const { code, err } = await run(['serv', '--port', '0']);
    expect(code).toBe(2);
    expect(err).toContain('token-swap: Unknown command "serv". Did you mean serve?');
    expect((await run(['frobnicate'])).err).toMatch(/Unknown command "frobnicate"\.\n$/);
  });

  it('an unknown option is bad usage: exit 2, with a "did you mean" and the command\'s usage', async () => {
    const typo = await run(['login', '--swapurl', 'http://127.0.0.1:1', '--client-id', 'x']);
    expect(typo.code).toBe(2);
    expect(typo.err).toContain('USAGE token-swap login [OPTIONS]');
    expect(typo.err).toContain(
      'token-swap: Unknown option --swapurl for token-swap login. Did you mean --swap-url?',
    );
    const negated = await run(['login', '--no-opn']);
    expect([negated.code, negated.err]).toEqual([2, expect.stringContaining('Did you mean --no-open?')]);
    // --no- works for booleans only, as the usage shows it.
    expect((await run(['token', '--no-store'])).code).toBe(2);
    for (const command of ['serve', 'sandbox', 'token', 'refresh', 'status', 'logout', 'doctor']) {
      const result = await run([command, '--definitely-not-an-option']);
      expect([command, result.code]).toEqual([command, 2]);
      expect(result.err).toContain(`Unknown option --definitely-not-an-option for token-swap ${command}.`);
    }
    expect((await run(['--verison'])).err).toContain('Did you mean --version?');
  });

  it('--help shows each default, and one placeholder per option across the commands', async () => {
    const serve = (await run(['serve', '--help'])).out;
    expect(serve).toMatch(/--port=<port> +Port to listen on \(PORT, default 3000; 0: any free port\)/);
    expect(serve).toMatch(/--upstream-timeout=<ms> +.*\(UPSTREAM_TIMEOUT_MS, default 10000\)/);
    expect(serve).toMatch(/--log-level=<level> +.*\(LOG_LEVEL, default info\)/);
    expect((await run(['sandbox', '--help'])).out).toMatch(
      /--port=<port> +Port to listen on \(PORT, default 3001;/,
    );
    const login = (await run(['login', '--help'])).out;
    expect(login).toMatch(/--timeout=<seconds> +How long to wait for the browser \(default 300\)/);
    expect(login).not.toContain('(Default: ');

    const hints = new Map<string, Set<string>>();
    for (const command of Object.keys(commandModules)) {
      const { out } = await run([command, '--help']);
      for (const [, option = '', hint = ''] of out.matchAll(/--([a-z-]+)=<([^>]+)>/g)) {
        hints.set(option, new Set([...(hints.get(option) ?? []), hint]));
      }
      // Without a valueHint, citty makes one of the option's name (`<env_file>`): every value has its own.
      const { args } = (await commandModules[command as keyof typeof commandModules]()).default as {
        args: Record<string, { type: string; valueHint?: string }>;
      };
      for (const [name, def] of Object.entries(args)) {
        if (def.type === 'string')
          expect([command, name, def.valueHint]).toEqual([command, name, expect.any(String)]);
      }
    }
    for (const [option, seen] of hints) expect([option, [...seen]]).toEqual([option, [...seen].slice(0, 1)]);
    expect(hints.get('port')).toEqual(new Set(['port']));
  });

  it('an argument a command does not take is bad usage (exit 2)', async () => {
    const stray = await run(['login', '--scope', 'user-read-email', 'streaming']);
    expect(stray.code).toBe(2);
    expect(stray.err).toContain('token-swap: token-swap login takes no argument "streaming".');
    expect((await run(['token', '--', 'extra'])).code).toBe(2);
  });

  it('accepts every spelling citty accepts: --name value, --name=value, camelCase, --no-<boolean>', async () => {
    // Each run gets past the option check to the command's own validation of --port.
    for (const args of [
      ['--swap-url', 'http://127.0.0.1:1'],
      ['--swap-url=http://127.0.0.1:1'],
      ['--swapUrl', 'http://127.0.0.1:1'],
      ['--swapUrl=http://127.0.0.1:1', '--showDialog', '--show-dialog', '--no-open', '--open=false'],
    ]) {
      const result = await run(['login', ...args, '--client-id', 'x', '--port', 'eighty']);
      expect([args, result.code, result.err]).toEqual([
        args,
        2,
        'token-swap: --port must be a whole number from 0 to 65535\n',
      ]);
    }
  });

  it('--help and -h print the usage on stdout, --version the version; exit 0', async () => {
    const top = await run(['--help']);
    expect([top.code, top.err]).toEqual([0, '']);
    expect(top.out).toContain('COMMANDS');
    const login = await run(['login', '-h']);
    expect(login.code).toBe(0);
    expect(login.out).toContain('--swap-url=<url>');
    expect(login.out).toContain('--no-open');
    const version = await run(['--version']);
    expect([version.code, version.out]).toEqual([0, expect.stringMatching(/^\d+\.\d+\.\d+\n$/)]);
  });
});

describe('token-swap app-side commands', () => {
  it('status without a login exits 3 and says how to log in, with the values it knows', async () => {
    const store = storeIn();
    const { code, out, err } = await run(['status', '--store', store]);
    expect(code).toBe(3);
    expect(out).toBe('');
    expect(err).toBe(
      `token-swap: Not logged in. Run \`token-swap login --swap-url URL --client-id ID --store ${store}\` first.\n`,
    );
    const known = await run(['token'], {
      TOKEN_SWAP_STORE: store,
      TOKEN_SWAP_URL: 'https://swap.example.com',
      SPOTIFY_CLIENT_ID: 'my-client-id',
    });
    expect(known.err).toBe(
      'token-swap: Not logged in. Run `token-swap login --swap-url https://swap.example.com --client-id my-client-id` first.\n',
    );
  });

  it('token prints the stored access token and nothing else; TOKEN_SWAP_STORE comes from io.env', async () => {
    const store = storeIn();
    await createFileStore(store).save({
      swapUrl: 'http://127.0.0.1:1',
      tokens: {
        accessToken: 'BQin-process-access-token',
        tokenType: 'Bearer',
        scopes: ['user-read-email'],
        expiresAt: Date.now() + 3_600_000,
        refreshToken: 'AQin-process-refresh-token',
      },
    });
    expect(await run(['token'], { TOKEN_SWAP_STORE: store })).toEqual({
      code: 0,
      out: 'BQin-process-access-token\n',
      err: '',
    });
  });

  it('a taken `login --port` gives a one-line message, not a stack trace', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((taken.address() as { port: number }).port);
      const { code, err } = await run([
        ...['login', '--swap-url', 'http://127.0.0.1:1', '--client-id', 'x', '--no-open'],
        ...['--port', port, '--store', storeIn()],
      ]);
      expect(code).toBe(1);
      expect(err).toBe(
        `token-swap: cannot listen on 127.0.0.1:${port} for the redirect (EADDRINUSE); choose another --port, or leave it out for any free port\n`,
      );
      expect(err).not.toMatch(STACK_FRAME);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

describe('token-swap sandbox, stopped by signals', () => {
  const pending: Promise<unknown>[] = [];
  afterEach(async () => {
    await Promise.allSettled(pending.splice(0));
  });

  async function startSandbox() {
    const io = memoryIo();
    const exited = runCli(['sandbox', '--port', '0'], io);
    const [, url = ''] = await io.waitForStderr(/listening on (http:\/\/\S+)/);
    return { io, exited, url };
  }

  it('resolves once the server has stopped after SIGTERM: exit 0', async () => {
    const { io, exited, url } = await startSandbox();
    expect((await fetch(`${url}/__sandbox/stats`)).status).toBe(200);
    io.signal('SIGTERM');
    expect(await exited).toBe(0);
    await expect(fetch(`${url}/__sandbox/stats`)).rejects.toThrow();
  });

  it('a second signal ends at once with exit 1, without waiting for in-flight requests', async () => {
    const { io, exited, url } = await startSandbox();
    await injectFault(url, { kind: 'slow', delayMs: 3_000 });
    const before = await tokenCalls(url);
    const abort = new AbortController();
    let answered = false;
    const inFlight = fetch(`${url}/api/token`, {
      method: 'POST',
      body: new URLSearchParams(),
      signal: abort.signal,
    }).then(() => {
      answered = true;
    });
    pending.push(inFlight);
    await expect.poll(() => tokenCalls(url)).toBe(before + 1);
    io.signal('SIGINT');
    io.signal('SIGINT');
    expect(await exited).toBe(1);
    expect(io.err()).toContain('token-swap: SIGINT again: stopped without finishing in-flight requests\n');
    expect(answered).toBe(false);
    abort.abort();
  });
});

describe('a stop right after the banner', () => {
  // Before: the banner was written before the signal handlers were registered, so a SIGTERM sent the
  // moment a process manager (or a test) read it could hit the default disposition and kill the
  // process. The signal here arrives synchronously inside the banner's write: it must stop gracefully.
  for (const args of [
    ['serve', '--sandbox', '--port', '0'],
    ['sandbox', '--port', '0'],
  ]) {
    it(`${args[0]} stops gracefully on a SIGTERM sent while the banner is written`, async () => {
      const io = memoryIo();
      const write = io.stderr.write.bind(io.stderr);
      let signalled = false;
      io.stderr.write = (text: string) => {
        const result = write(text);
        if (!signalled && /listening on|Swap service/.test(text)) {
          signalled = true;
          io.signal('SIGTERM');
        }
        return result;
      };
      expect(await runCli(args, io)).toBe(0);
      expect(signalled).toBe(true);
    });
  }
});
