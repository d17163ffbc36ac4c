/**
 * Runs the README's curl walk-through and sandbox examples exactly as written (only the port is
 * changed, to a free one) and checks each output against the JSON shown after it, so the front
 * door cannot drift from what the service does.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, emptyDir, runCli } from './helpers/cli.js';
import { startForwardingProxy } from './helpers/forwarding-proxy.js';

const execFileAsync = promisify(execFile);
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
/** Where the README's sandbox is "from another machine"; the test puts a forwarding proxy there. */
const REMOTE_SANDBOX = 'https://sandbox.example.com';

interface Example {
  script: string;
  /** The JSON block that follows the script, when there is one. */
  expected?: string;
}

/** The fenced blocks of one `## ` section, each sh block paired with the json block after it. */
function examples(heading: string): Example[] {
  const start = README.indexOf(`\n## ${heading}\n`);
  expect(start, `README section "${heading}"`).toBeGreaterThan(-1);
  const end = README.indexOf('\n## ', start + 1);
  const section = README.slice(start, end === -1 ? undefined : end);
  const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({
    lang: m[1],
    body: m[2] ?? '',
  }));
  const result: Example[] = [];
  for (const block of blocks) {
    if (block.lang === 'sh') {
      result.push({ script: block.body });
    } else if (block.lang === 'json' && result.length > 0) {
      const last = result[result.length - 1];
      if (last) last.expected = block.body.trim();
    }
  }
  return result;
}

/**
 * Checks an output against the JSON shown in the README: the same keys in the same order, and
 * equal values, where `...` inside a string stands for any run of characters and the login's
 * `refresh_token_expires_in` for any value that is six months from now.
 */
function expectMatchesShown(output: string | undefined, shown: string, script: string) {
  const expected = JSON.parse(shown) as Record<string, unknown>;
  const actual = JSON.parse(output ?? '') as Record<string, unknown>;
  expect(Object.keys(actual), script).toEqual(Object.keys(expected));
  for (const [key, value] of Object.entries(expected)) {
    if (key === 'refresh_token_expires_in') {
      // Six calendar months from now, in seconds: 181 to 184 days depending on the date.
      for (const seconds of [actual[key], value]) {
        expect(seconds, `${key} in: ${script}`).toBeGreaterThanOrEqual(181 * 86_400 - 60);
        expect(seconds, `${key} in: ${script}`).toBeLessThanOrEqual(184 * 86_400);
      }
    } else if (typeof value === 'string' && value.includes('...')) {
      const escaped = value.split('...').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      expect(actual[key], `${key} in: ${script}`).toMatch(new RegExp(`^${escaped.join('.+')}$`));
    } else {
      expect(actual[key], `${key} in: ${script}`).toEqual(value);
    }
  }
}

let server: CliRun;
let port: string;

beforeAll(async () => {
  server = runCli(['serve', '--sandbox', '--port', '0']);
  const [, url] = await server.waitFor(/Swap service\s+(http:\/\/\S+)/);
  port = new URL(url ?? '').port;
});
afterAll(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
});

/**
 * The environment of a person's shell: without the npm_* variables that `npm test` or `npx -p ...`
 * set for this process, which would change what a nested `npx token-swap` resolves.
 */
function newcomerEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')),
  );
}

function runAll(list: Example[], options: { cwd?: string; env?: Record<string, string> } = {}): string[] {
  const marker = '@@README-EXAMPLE@@';
  const script = list
    .map((e) => `${e.script.replaceAll('127.0.0.1:3000', `127.0.0.1:${port}`)}\necho ${marker}`)
    .join('\n');
  const output = execFileSync('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: options.cwd ?? emptyDir(),
    encoding: 'utf8',
    env: { ...newcomerEnvironment(), ...options.env },
  });
  return output.split(`${marker}\n`).map((part) => part.trim());
}

describe('README', () => {
  it('starts with the two commands a newcomer runs', () => {
    expect(README).toContain('```sh\nnpm ci && npx token-swap serve --sandbox\n```');
    expect(README).toContain('```sh\nnpm test\n```');
  });

  it('walk-through with curl works exactly as written', () => {
    const list = examples('Walk through the flow with curl');
    expect(list.length).toBeGreaterThanOrEqual(4);
    const outputs = runAll(list);
    expect(outputs[0]).toMatch(/^http:\/\/127\.0\.0\.1:8888\/callback\?code=[\w-]+&state=demo$/);
    list.forEach((example, i) => {
      if (example.expected !== undefined) {
        expectMatchesShown(outputs[i], example.expected, example.script);
      }
    });
  });

  // Seven `npx token-swap` starts in a row: slow on a busy two-core machine.
  it('command-line session works exactly as written', { timeout: 90_000 }, () => {
    const list = examples('Log in from the command line');
    expect(list).toHaveLength(2);
    const outputs = runAll(list, {
      // `npx token-swap` resolves to this package from a clone of the repository.
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: {
        // The person at the browser, clicking Agree; and a private config directory for the login.
        BROWSER: fileURLToPath(new URL('./helpers/agreeing-browser.mjs', import.meta.url)),
        XDG_CONFIG_HOME: emptyDir(),
        TOKEN_SWAP_STORE: '',
      },
    });
    expect(outputs[0]).toMatch(/^Opened your browser to log in\./);
    expect(outputs[0]).toMatch(/Logged in as Sandbox User \(sandbox-[\w-]+\)\./);
    expect(outputs[0]).toContain('Scopes:        user-read-email user-read-private');
    expect(outputs[0]).toContain('/spotify-token-swap/tokens.json');
    expect(outputs[1]).toContain('"display_name":"Sandbox User"');
    expect(outputs[1]).toContain('Logged in as Sandbox User');
    expect(outputs[1]).toMatch(/Refreshed\. Access token valid until/);
    expect(outputs[1]).toContain('Logged out: removed');
  });

  it('sandbox fault-injection example works exactly as written', () => {
    const list = examples('The sandbox').filter((e) => !e.script.includes(REMOTE_SANDBOX));
    expect(list.some((e) => e.expected)).toBe(true);
    const outputs = runAll(list);
    list.forEach((example, i) => {
      if (example.expected !== undefined) {
        expectMatchesShown(outputs[i], example.expected, example.script);
      }
    });
  });

  it("the banner's OAuth metadata line names a document whose issuer and token endpoint are this service", async () => {
    const [, metadataUrl = ''] = /OAuth metadata\s+(\S+)/.exec(server.stderr()) ?? [];
    expect(metadataUrl).toBe(`http://127.0.0.1:${port}/.well-known/oauth-authorization-server`);
    const metadata = (await (await fetch(metadataUrl)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: `http://127.0.0.1:${port}`,
      token_endpoint: `http://127.0.0.1:${port}/token`,
      revocation_endpoint: `http://127.0.0.1:${port}/revoke`,
    });
  });

  it('the control token example works from another machine as written, with the token the banner printed', async () => {
    const [example, ...others] = examples('The sandbox').filter((e) => e.script.includes(REMOTE_SANDBOX));
    expect(others).toEqual([]);
    const [, token = ''] = /Control token\s+(\S+)/.exec(server.stderr()) ?? [];
    expect(token).toMatch(/^[\w-]{32}$/);
    // Another machine's request, as the sandbox sees it: through a proxy that says where it came from.
    const proxy = await startForwardingProxy(`http://127.0.0.1:${port}`);
    try {
      // Asynchronous: the proxy runs in this process, so a synchronous run would never be answered.
      const run = async (env: Record<string, string>) =>
        (
          await execFileAsync(
            'bash',
            ['-euo', 'pipefail', '-c', example?.script.replaceAll(REMOTE_SANDBOX, proxy.url) ?? ''],
            { cwd: emptyDir(), encoding: 'utf8', env: { ...newcomerEnvironment(), ...env }, timeout: 10_000 },
          )
        ).stdout;
      expectMatchesShown(
        await run({ SANDBOX_CONTROL_TOKEN: token }),
        example?.expected ?? '',
        example?.script ?? '',
      );
      // Without the right token, the same command is refused: the token is what let it in.
      expect(JSON.parse(await run({ SANDBOX_CONTROL_TOKEN: `${token}x` }))).toMatchObject({
        error: 'forbidden',
      });
    } finally {
      await proxy.close();
    }
    // A secret of the sandbox: in the banner (stderr), never in a log line (stdout).
    expect(server.stdout()).toContain('"msg":"listening"');
    expect(server.stdout()).not.toContain(token);
  });

  it('the sealing secret command works as written', () => {
    const command = 'npx token-swap secret';
    expect(README).toContain(`Generate a sealing secret: \`${command}\``);
    const secret = execFileSync('bash', ['-euo', 'pipefail', '-c', command], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      env: newcomerEnvironment(),
    });
    expect(secret).toMatch(/^[A-Za-z0-9+/]{64}\n$/);
  });

  // npx fetches pino-pretty from the registry the first time: allow for a slow download.
  it('pretty logs for development work as written', { timeout: 90_000 }, async () => {
    const [example] = examples('Operations');
    expect(example?.script).toBe('npx token-swap serve --sandbox | npx --yes pino-pretty@13\n');
    // Its own process group, so that the pipeline can be stopped as a whole, as Ctrl-C does.
    const pipeline = spawn('bash', ['-c', example?.script ?? ''], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      // Any free port: the command as written takes PORT from the environment.
      env: { ...newcomerEnvironment(), PORT: '0' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    pipeline.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const closed = new Promise((resolve) => pipeline.on('close', resolve));
    try {
      // pino-pretty's form of the start-up line, not pino's JSON.
      await expect
        .poll(() => out, { timeout: 80_000, interval: 200 })
        .toMatch(/^\[[\d:.]+\] INFO: listening$/m);
      expect(out).not.toContain('{"level":');
    } finally {
      if (pipeline.pid !== undefined) process.kill(-pipeline.pid, 'SIGINT');
      await closed;
    }
  });
});
