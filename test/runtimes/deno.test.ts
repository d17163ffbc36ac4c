/**
 * The Deno entry (dist/runtimes/deno.js) under the `deno` binary of the npm package of that name,
 * started from the repository root as `deno task start` starts it: deno.json there says
 * `nodeModulesDir: "manual"`, so `hono` and `zod` load from the project's node_modules. Only the
 * network and the environment are allowed: reading files is not needed.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConformanceSandbox,
  type ConformanceTarget,
  conformanceEnv,
  conformanceSuite,
  startConformanceSandbox,
} from '../conformance/suite.js';
import { runtimeBinary } from './binaries.js';
import { expectNoSecrets } from './secrets.js';
import { type ServerProcess, startServerProcess } from './server-process.js';

const DENO = runtimeBinary('deno');
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const target: ConformanceTarget = { name: 'Deno', serviceUrl: '', accountsUrl: '' };
let sandbox: ConformanceSandbox | undefined;
let server: ServerProcess | undefined;

beforeAll(async () => {
  sandbox = await startConformanceSandbox();
  target.accountsUrl = sandbox.accountsUrl;
  server = await startServerProcess(DENO, ['run', '--allow-net', '--allow-env', 'dist/runtimes/deno.js'], {
    env: {
      ...conformanceEnv(sandbox.accountsUrl),
      PORT: '0',
      DENO_NO_UPDATE_CHECK: '1',
      NO_COLOR: '1',
    },
    urlPattern: /\(Deno\) listening on (http:\/\/\S+)/,
    cwd: ROOT,
  });
  target.serviceUrl = server.url;
});
afterAll(async () => {
  await server?.stop();
  await sandbox?.close();
});

conformanceSuite(target);

describe('the Deno process', () => {
  it('logs no secret, and exits 0 on SIGTERM', async () => {
    expectNoSecrets(server?.output() ?? '');
    expect(await server?.stop()).toEqual({ code: 0, signal: null });
  });
});
