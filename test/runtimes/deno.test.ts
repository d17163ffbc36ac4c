/**
 * The Deno entry (dist/runtimes/deno.js) started by the documented command, `deno task start`
 * (docs/deploy/deno.md), under the `deno` binary of the npm package of that name, in a directory
 * laid out like a clone after `npm ci`: deno.json, package.json, dist/ and node_modules/, whose
 * `.bin/deno` is that package's native binary. deno.json says `nodeModulesDir: "manual"`, so `hono`
 * and `zod` load from node_modules; the task allows only the network and the environment.
 */
import { copyFileSync, mkdirSync, openSync, readdirSync, readSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConformanceSandbox,
  type ConformanceTarget,
  conformanceEnv,
  conformanceSuite,
  startConformanceSandbox,
} from '../conformance/suite.js';
import { emptyDir } from '../helpers/cli.js';
import { runtimeBinary } from './binaries.js';
import { expectNoSecrets } from './secrets.js';
import { type ServerProcess, startServerProcess } from './server-process.js';

const DENO = runtimeBinary('deno');
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * deno.json and package.json copied, dist/ and the packages of node_modules/ linked: what `deno task`
 * sees in a clone where the npm package `deno` is installed too (`npm install deno`), so that
 * `node_modules/.bin/deno` is its native binary.
 */
function cloneLayout(): string {
  const dir = emptyDir();
  for (const file of ['deno.json', 'package.json']) copyFileSync(join(ROOT, file), join(dir, file));
  symlinkSync(join(ROOT, 'dist'), join(dir, 'dist'));
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '.bin'), { recursive: true });
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
    if (entry !== '.bin') symlinkSync(join(ROOT, 'node_modules', entry), join(modules, entry));
  }
  symlinkSync(realpathSync(DENO), join(modules, '.bin/deno'));
  return dir;
}

function startsWithElfMagic(path: string): boolean {
  const head = Buffer.alloc(4);
  readSync(openSync(realpathSync(path), 'r'), head, 0, 4, 0);
  return head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
}

const target: ConformanceTarget = { name: 'Deno', serviceUrl: '', accountsUrl: '' };
let sandbox: ConformanceSandbox | undefined;
let server: ServerProcess | undefined;
let clone = '';

beforeAll(async () => {
  clone = cloneLayout();
  sandbox = await startConformanceSandbox();
  target.accountsUrl = sandbox.accountsUrl;
  server = await startServerProcess(DENO, ['task', 'start'], {
    env: {
      ...conformanceEnv(sandbox.accountsUrl),
      PORT: '0',
      DENO_NO_UPDATE_CHECK: '1',
      NO_COLOR: '1',
    },
    urlPattern: /\(Deno\) listening on (http:\/\/\S+)/,
    cwd: clone,
  });
  target.serviceUrl = server.url;
});
afterAll(async () => {
  await server?.stop();
  await sandbox?.close();
});

conformanceSuite(target);

describe('the Deno process', () => {
  // Deno's task runner runs a bare command found in node_modules/.bin with `deno run`, as
  // JavaScript; `.bin/deno` is the npm package's native binary, so a task saying `deno run ...`
  // died with "SyntaxError: Invalid or unexpected token" in every clone. The task says `env deno`.
  it('deno task start works where node_modules/.bin/deno is the native binary', () => {
    expect(startsWithElfMagic(join(clone, 'node_modules/.bin/deno'))).toBe(true);
    expect(server?.output()).toMatch(/\(Deno\) listening on http:\/\//);
    expect(server?.output()).not.toContain('SyntaxError');
  });

  it('logs no secret, and exits 0 on SIGTERM', async () => {
    expectNoSecrets(server?.output() ?? '');
    expect(await server?.stop()).toEqual({ code: 0, signal: null });
  });
});
