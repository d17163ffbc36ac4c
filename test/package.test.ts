/**
 * The package outside the clone. The README's install section runs as written (only the tarball's path
 * changes) in a copy of the working tree: `npm pack` builds (`prepare`) and packs the service and the
 * kit, and an empty project installs the tarballs. A second empty project installs from a git URL (a
 * `git+file://` URL of this repository at HEAD, which npm treats as any git host: it clones, installs,
 * runs `prepare`, and packs). From each, the project's own `token-swap` bin runs the service, and the
 * client kit swaps and refreshes through it. `npx --no-install` proves that the bin resolves locally,
 * never to a registry package of the same name.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { emptyProject, npmQuiet, ROOT, run, userEnvironment } from './helpers/npm-project.js';

const VERSION = (await import('../package.json', { with: { type: 'json' } })).default.version;

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The sh blocks of the README's install section, which this test runs as written. */
function installBlocks(): string[] {
  const start = README.indexOf('\n## Install it in your project\n');
  const end = README.indexOf('\n## ', start + 1);
  return [...README.slice(start, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

/** What a clone holds now: the working tree's files (committed or not, ignored ones left out). */
function copyOfTheClone(): string {
  const copy = mkdtempSync(join(tmpdir(), 'token-swap-clone-'));
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  for (const file of listed.split('\0').filter((f) => f && existsSync(join(ROOT, f)))) {
    cpSync(join(ROOT, file), join(copy, file));
  }
  // As after `npm ci` there: the same install, without installing it again.
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  return copy;
}

const bash = (script: string, cwd: string) =>
  run('bash', ['-euo', 'pipefail', '-c', script], { cwd, timeoutMs: 240_000 });

let clone: string;
let project: string;
let versionShown: string;
let kitInstalled: Record<string, string>;

beforeAll(async () => {
  const blocks = installBlocks();
  expect(blocks).toHaveLength(3);
  const [packs = '', install = '', installKit = ''] = blocks;
  expect(packs.trim().split('\n')).toEqual(['npm pack', 'npm pack --workspace packages/client']);
  clone = copyOfTheClone();
  // As in a clone where `npm run build:worker` ran (the Workers deploy, the workers test): that bundle
  // is not for the npm package, and `files` leaves it out.
  mkdirSync(join(clone, 'dist/worker'), { recursive: true });
  writeFileSync(join(clone, 'dist/worker/index.js'), 'export default {};\n');
  await bash(packs, clone);
  // Only the path changes: the README's /path/to/ is where the tarballs were packed.
  project = emptyProject();
  // The last line is what `token-swap --version` printed, after npm's summary.
  versionShown =
    (await bash(install.replaceAll('/path/to/', `${clone}/`), project)).trim().split('\n').at(-1) ?? '';
  const kitProject = emptyProject('kit-app');
  await bash(installKit.replaceAll('/path/to/', `${clone}/`), kitProject);
  kitInstalled = JSON.parse(readFileSync(join(kitProject, 'package.json'), 'utf8')).dependencies;
}, 300_000);

/** `token-swap serve --sandbox` from the installed package, on a free loopback port. */
function serveSandbox(cwd: string): {
  child: ChildProcess;
  url: Promise<string>;
  exit: Promise<number | null>;
} {
  const child = spawn(join(cwd, 'node_modules/.bin/token-swap'), ['serve', '--sandbox', '--auto-approve'], {
    cwd,
    env: userEnvironment({ PORT: '0', ENCRYPTION_SECRET: 'package-test-sealing-secret-0123456789abcdef' }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner in 20 s:\n${stderr}`)), 20_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /Swap service\s+(http:\/\/\S+)/.exec(stderr);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, url, exit };
}

/** An app's swap and refresh with `spotify-token-swap/client`, against the sandbox of `serve`. */
const APP = `import { createAuthorizeUrl, createSwapClient } from 'spotify-token-swap/client';
const [swapUrl] = process.argv.slice(2);
const auth = await createAuthorizeUrl({
  clientId: 'sandbox-client-id', redirectUri: 'http://127.0.0.1:8888/callback', accountsUrl: swapUrl + '/sandbox',
});
const redirect = await fetch(auth.url, { redirect: 'manual' });
const code = new URL(redirect.headers.get('location')).searchParams.get('code');
const client = createSwapClient({ swapUrl });
const swapped = await client.swap(code, { redirectUri: auth.redirectUri, codeVerifier: auth.codeVerifier });
const refreshed = await client.refresh(swapped.refresh_token);
console.log(JSON.stringify({ sealed: swapped.refresh_token.startsWith('sts2.'), refreshed: typeof refreshed.access_token }));
`;

describe('the spotify-token-swap package', () => {
  it('holds the build, the sources its source maps point to and the bin; no tests, docs, workspaces or worker bundle', async () => {
    const listed = await run('tar', ['-tzf', join(clone, `spotify-token-swap-${VERSION}.tgz`)], {
      cwd: clone,
    });
    const tarballFiles = listed
      .trim()
      .split('\n')
      .map((file) => file.replace(/^package\//, ''));
    const top = new Set(tarballFiles.map((file) => file.split('/')[0]));
    expect([...top].sort()).toEqual(['LICENSE', 'README.md', 'bin', 'dist', 'package.json', 'src']);
    expect(tarballFiles).toContain('dist/cli/main.js');
    expect(tarballFiles).toContain('dist/demo/browser.js');
    expect(tarballFiles.filter((file) => file.startsWith('dist/worker/'))).toEqual([]);
  });

  it('installed from the tarball as the README says: npx finds the local token-swap, the service runs, the kit swaps and refreshes', async () => {
    expect(versionShown).toBe(VERSION);
    expect(Object.keys(kitInstalled)).toEqual(['spotify-token-swap-client']);
    const help = await run('npx', ['--no-install', 'token-swap', '--help'], { cwd: project });
    expect(help).toContain('serve');
    expect((await run('npx', ['--no-install', 'token-swap', '--version'], { cwd: project })).trim()).toBe(
      VERSION,
    );

    const server = serveSandbox(project);
    try {
      writeFileSync(join(project, 'app.js'), APP);
      const out = await run(process.execPath, ['app.js', await server.url], {
        cwd: project,
        timeoutMs: 30_000,
      });
      expect(JSON.parse(out)).toEqual({ sealed: true, refreshed: 'string' });
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await server.exit).toBe(0);
  });

  it('installed from a git URL: npm builds it with prepare, and its bin and kit work', {
    timeout: 420_000,
  }, async () => {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const fromGit = emptyProject('git-app');
    await run('npm', ['install', ...npmQuiet, `git+file://${ROOT}#${head}`], {
      cwd: fromGit,
      timeoutMs: 400_000,
    });
    expect((await run('npx', ['--no-install', 'token-swap', '--version'], { cwd: fromGit })).trim()).toBe(
      VERSION,
    );
    const server = serveSandbox(fromGit);
    try {
      writeFileSync(join(fromGit, 'app.js'), APP);
      const out = await run(process.execPath, ['app.js', await server.url], {
        cwd: fromGit,
        timeoutMs: 30_000,
      });
      expect(JSON.parse(out)).toEqual({ sealed: true, refreshed: 'string' });
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await server.exit).toBe(0);
  });
});
