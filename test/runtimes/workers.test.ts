/**
 * The Cloudflare Workers entry, bundled by scripts/build-worker.mjs into one ES module and run by
 * workerd (the open-source Workers runtime) through Miniflare, with the configuration as string
 * bindings and no compatibility flags: the core needs no `nodejs_compat`. The conformance suite runs
 * with the Durable Objects wrangler.toml binds (the LOGINS login store), as a deployment has them;
 * workers-logins.test.ts covers the Worker without them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConformanceSandbox,
  type ConformanceTarget,
  conformanceEnv,
  conformanceSuite,
  startConformanceSandbox,
} from '../conformance/suite.js';
import { expectNoSecrets } from './secrets.js';
import { buildWorker, disposeAll, type RunningWorker, startWorker } from './workers-miniflare.js';

const target: ConformanceTarget = { name: 'Cloudflare Workers (workerd)', serviceUrl: '', accountsUrl: '' };
let sandbox: ConformanceSandbox | undefined;
const workers: RunningWorker[] = [];

async function start(bindings: Record<string, string>, logins = false): Promise<URL> {
  const worker = await startWorker(bindings, { logins });
  workers.push(worker);
  return worker.url;
}

beforeAll(async () => {
  await buildWorker();
  sandbox = await startConformanceSandbox();
  target.accountsUrl = sandbox.accountsUrl;
  target.serviceUrl = (await start(conformanceEnv(sandbox.accountsUrl), true)).origin;
});
afterAll(async () => {
  await disposeAll();
  await sandbox?.close();
});

conformanceSuite(target);

describe('the Worker', () => {
  it('logs no secret', () => {
    expectNoSecrets(workers.map((worker) => worker.output()).join(''));
  });

  it('answers every request with a JSON 500 naming what to fix while a binding is missing', async () => {
    const { SPOTIFY_CLIENT_SECRET: _, ...incomplete } = conformanceEnv(target.accountsUrl);
    const url = await start(incomplete);
    const response = await fetch(new URL('/swap', url), {
      method: 'POST',
      body: new URLSearchParams({ code: 'x' }),
    });
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = (await response.json()) as { error: string; error_description: string };
    expect(body.error).toBe('server_error');
    expect(body.error_description).toContain('SPOTIFY_CLIENT_SECRET');
  });
});
