/**
 * The Node entry, as users start it: `token-swap serve` in its own process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConformanceSandbox,
  type ConformanceTarget,
  conformanceEnv,
  conformanceSuite,
  startConformanceSandbox,
} from '../conformance/suite.js';
import { BIN } from '../helpers/cli.js';
import { expectNoSecrets } from './secrets.js';
import { type ServerProcess, startServerProcess } from './server-process.js';

const target: ConformanceTarget = { name: 'Node (token-swap serve)', serviceUrl: '', accountsUrl: '' };
let sandbox: ConformanceSandbox | undefined;
let server: ServerProcess | undefined;

beforeAll(async () => {
  sandbox = await startConformanceSandbox();
  target.accountsUrl = sandbox.accountsUrl;
  server = await startServerProcess(process.execPath, [BIN, 'serve', '--port', '0'], {
    env: conformanceEnv(sandbox.accountsUrl),
    urlPattern: /listening on (http:\/\/\S+)/,
  });
  target.serviceUrl = server.url;
});
afterAll(async () => {
  await server?.stop();
  await sandbox?.close();
});

conformanceSuite(target);

describe('the Node process', () => {
  it('logs no secret, and exits 0 on SIGTERM', async () => {
    expectNoSecrets(server?.output() ?? '');
    expect(await server?.stop()).toEqual({ code: 0, signal: null });
  });
});
