/**
 * The Bun entry (dist/runtimes/bun.js) under the `bun` binary of the npm package of that name.
 * Bun (from test/runtimes/package.json, see binaries.ts) resolves `hono` and `zod` from the
 * node_modules above the script. It runs in an empty
 * directory, because Bun loads a `.env` from its working directory by itself.
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

const BUN = runtimeBinary('bun');
const ENTRY = fileURLToPath(new URL('../../dist/runtimes/bun.js', import.meta.url));

const target: ConformanceTarget = { name: 'Bun', serviceUrl: '', accountsUrl: '' };
let sandbox: ConformanceSandbox | undefined;
let server: ServerProcess | undefined;

beforeAll(async () => {
  sandbox = await startConformanceSandbox();
  target.accountsUrl = sandbox.accountsUrl;
  server = await startServerProcess(BUN, [ENTRY], {
    env: { ...conformanceEnv(sandbox.accountsUrl), PORT: '0', NO_COLOR: '1' },
    urlPattern: /\(Bun\) listening on (http:\/\/\S+)/,
  });
  target.serviceUrl = server.url;
});
afterAll(async () => {
  await server?.stop();
  await sandbox?.close();
});

conformanceSuite(target);

describe('the Bun process', () => {
  it('logs no secret, and exits 0 on SIGTERM', async () => {
    expectNoSecrets(server?.output() ?? '');
    expect(await server?.stop()).toEqual({ code: 0, signal: null });
  });
});
