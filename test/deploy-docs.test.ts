/**
 * Every shell block of docs/deploy/*.md, run as written in a fresh copy of the repository (the files a
 * clone would have, `npm ci` included), against the sandbox the pages start, with only the ports
 * changed to free ones. A block that cannot run here must carry the visible "Not run by the tests"
 * note with its reason; the last test fails for any block that is neither run nor marked, and for a
 * block naming a command that cannot run here (a real deployment, systemd, Docker) without the note.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../src/server/config/env.js';
import { emptyDir } from './helpers/cli.js';
import {
  expectEveryBlockRunOrMarked,
  type ShellBlock,
  shellBlocks,
  shownOutput,
} from './helpers/doc-blocks.js';
import { freePortBelowEphemeral } from './helpers/redis.js';
import { type Background, runBlock, type Session, startBlock } from './helpers/shell-session.js';
import { runtimeBinary } from './runtimes/binaries.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PAGES = readdirSync(join(ROOT, 'docs/deploy')).map((name) => `docs/deploy/${name}`);
const BLOCKS = PAGES.flatMap((page) => shellBlocks(ROOT, page));
const ran = new Set<ShellBlock>();
/**
 * Commands that need an account, a deployment, systemd, root on the host or a Docker engine: in
 * command position (a line's start, after `(`, `;`, `&&` or `|`), so that `--format docker` is not one.
 */
const CANNOT_RUN_HERE =
  /(^\s*|[(;&|]\s*)(sudo|systemctl|docker|sam|aws|fly) |wrangler@4 (deploy|secret|login|tail)/m;

/** The one block of `page` that contains `text`, counted as run. */
function block(page: string, text: string): ShellBlock {
  const found = BLOCKS.filter((b) => b.page === `docs/deploy/${page}` && b.body.includes(text));
  if (found.length !== 1 || !found[0])
    throw new Error(`${page}: ${found.length} shell blocks contain "${text}"`);
  ran.add(found[0]);
  return found[0];
}

/** The files a clone of the working tree would have: tracked and new ones, not the ignored ones. */
function freshCopy(): string {
  const dir = emptyDir();
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  for (const file of files.split('\0').filter((f) => f && existsSync(join(ROOT, f)))) {
    if (!statSync(join(ROOT, file)).isFile()) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(dir, file));
  }
  return dir;
}

/** A person's shell: no npm_* variables, no node_modules/.bin on PATH, no configuration of the service. */
function personEnvironment(tools: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.toLowerCase().startsWith('npm_') || name in ENV) continue;
    env[name] = value;
  }
  const path = (env.PATH ?? '').split(':').filter((dir) => !dir.endsWith('node_modules/.bin'));
  return { ...env, PATH: [tools, ...path].join(':'), NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' };
}

/** Node 22.12 or newer, which Wrangler 4 needs: this one, or the npm package node@22's. */
function node22Dir(): string {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 12)) return dirname(process.execPath);
  const path = execFileSync('npx', ['--yes', '-p', 'node@22', 'node', '-p', 'process.execPath'], {
    encoding: 'utf8',
  });
  return dirname(path.trim());
}

/** Runs each line of a block of one-line commands, and checks what a line's comment says it prints. */
function runLines(check: ShellBlock, env: Record<string, string> = {}): string[] {
  return check.body
    .trim()
    .split('\n')
    .map((line) => {
      const output = runBlock({ ...check, body: `${line}\n` }, session, env).trim();
      const shown = shownOutput(line);
      if (shown) expect(output, line).toMatch(shown);
      return output;
    });
}

function expectSwapAndRefresh(output: string) {
  const [swap = '', refresh = ''] = output.trim().split('\n');
  expect(JSON.parse(swap)).toMatchObject({
    token_type: 'Bearer',
    expires_in: 3600,
    scope: 'user-read-email',
  });
  expect(JSON.parse(swap).refresh_token).toMatch(/^sts2\./);
  expect(Object.keys(JSON.parse(refresh))).toEqual([
    'access_token',
    'token_type',
    'expires_in',
    'scope',
    'refresh_token_expires_in',
  ]);
}

let session: Session;
let sandbox: Background | undefined;

beforeAll(async () => {
  const tools = emptyDir();
  session = {
    cwd: freshCopy(),
    env: {},
    ports: new Map([
      [3000, await freePortBelowEphemeral()],
      [3001, await freePortBelowEphemeral()],
    ]),
  };
  // Deno and Bun as a person has them installed: here, the binaries of their npm packages
  // (test/runtimes/package.json).
  symlinkSync(realpathSync(runtimeBinary('deno')), join(tools, 'deno'));
  symlinkSync(realpathSync(runtimeBinary('bun')), join(tools, 'bun'));
  session.env = personEnvironment(tools);
});
afterAll(async () => {
  await sandbox?.stop();
  // The copy holds a whole node_modules (about 560 MB): removing it took over 30 s on a loaded machine.
  if (session?.cwd) rmSync(session.cwd, { recursive: true, force: true });
}, 120_000);

describe('docs/deploy, run as written in a fresh copy', () => {
  it('README: npm ci, then the sandbox', { timeout: 300_000 }, async () => {
    sandbox = await startBlock(block('README.md', 'npm ci'), session, 3001, { timeoutMs: 280_000 });
  });

  const exports = () => block('README.md', 'export SPOTIFY_CLIENT_ID=');
  const swapAndRefresh = () => block('README.md', 'SWAP=http://127.0.0.1:3000');

  /**
   * The target's start block, typed in the terminal where the sandbox variables are exported; then
   * the swap and refresh, and `more` while it still runs.
   */
  async function againstTheSandbox(
    start: ShellBlock,
    options: { env?: Record<string, string>; timeoutMs?: number } = {},
    more: () => void = () => {},
  ) {
    const server = await startBlock({ ...start, body: exports().body + start.body }, session, 3000, options);
    try {
      expectSwapAndRefresh(runBlock(swapAndRefresh(), session));
      more();
    } finally {
      await server.stop();
    }
  }

  it('node.md: the service against the sandbox, swap and refresh, then Verify a deployment', async () => {
    await againstTheSandbox(block('node.md', 'node bin/token-swap.js serve'), {}, () => {
      const [, , invalid] = runLines(block('README.md', 'curl -s $SWAP/healthz'), {
        SWAP: `http://127.0.0.1:${session.ports.get(3000)}`,
      });
      // What the page says a working deployment answers to a code Spotify never issued.
      expect(JSON.parse(invalid ?? '')).toEqual({
        error: 'invalid_grant',
        error_description: 'Invalid authorization code',
      });
    });
  }, 60_000);

  for (const [page, start] of [
    ['deno.md', 'deno task start'],
    ['bun.md', 'bun dist/runtimes/bun.js'],
  ] as const) {
    it(`${page}: the .env of Configure, the start command, the health check; then against the sandbox`, async () => {
      runBlock(block(page, 'cat > .env'), session);
      const server = await startBlock(block(page, start), session, 3000);
      try {
        runLines(block(page, 'curl -s http://127.0.0.1:3000/healthz'));
      } finally {
        await server.stop();
      }
      await againstTheSandbox(block(page, start));
    }, 60_000);
  }

  it('cloudflare-workers.md: wrangler dev under Node 22, against the sandbox', async () => {
    const node22 = node22Dir();
    await againstTheSandbox(block('cloudflare-workers.md', 'npx wrangler@4 dev'), {
      // npm_config_yes: the "Ok to proceed?" a person answers when npx first fetches wrangler.
      env: { PATH: `${node22}:${session.env.PATH}`, npm_config_yes: 'true', WRANGLER_SEND_METRICS: 'false' },
      timeoutMs: 170_000,
    });
  }, 180_000);

  it('aws-lambda.md: the package is one bundle that runs with nothing installed', () => {
    runBlock(block('aws-lambda.md', 'npm run build:lambda'), session);
    // Unzipped where no node_modules lies above, as in Lambda's /var/task.
    const task = emptyDir();
    execFileSync('unzip', ['-q', join(session.cwd, 'build/lambda.zip'), '-d', task]);
    expect(readdirSync(join(task, 'node_modules'))).toEqual(['ioredis']);
    const kind = execFileSync(
      process.execPath,
      ['-e', "import('./index.mjs').then((m) => console.log(typeof m.handler))"],
      { cwd: task, encoding: 'utf8' },
    );
    expect(kind.trim()).toBe('function');
  }, 120_000);

  it('docker.md: the .env next to compose.yaml, private to its owner', () => {
    const dir = emptyDir();
    runBlock(block('docker.md', 'cat > .env'), { ...session, cwd: dir });
    expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o600);
  });

  it('docker.md: the podman block is run by test/container.test.ts, which reads it from this page', () => {
    const runner = readFileSync(join(ROOT, 'test/container.test.ts'), 'utf8');
    expect(runner).toContain("'docs/deploy/docker.md'");
    expect(block('docker.md', 'podman build --format docker').body).toContain('podman run -d');
  });

  it('runs every shell block of docs/deploy/*.md, or marks it as not run here with the reason', () => {
    expectEveryBlockRunOrMarked(BLOCKS, ran, CANNOT_RUN_HERE);
  });
});
