/**
 * The Cloudflare Workers entry, bundled by scripts/build-worker.mjs into one ES module and run by
 * workerd (the open-source Workers runtime) through Miniflare, with the configuration as string
 * bindings and no compatibility flags: the core needs no `nodejs_compat`. The conformance suite runs
 * with the Durable Objects wrangler.toml binds (the LOGINS login store), as a deployment has them;
 * workers-logins.test.ts covers the Worker without them.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConformanceSandbox,
  type ConformanceTarget,
  conformanceEnv,
  conformanceSuite,
  startConformanceSandbox,
} from '../conformance/suite.js';
import { loadMiniflare, type MiniflareInstance } from './binaries.js';
import { expectNoSecrets } from './secrets.js';
import { durableObjectsOfWrangler } from './workers-miniflare.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKER = fileURLToPath(new URL('../../dist/worker/index.js', import.meta.url));
/** The newest date the installed workerd supports (`workerd --version`). */
const COMPATIBILITY_DATE = '2025-07-18';

const target: ConformanceTarget = { name: 'Cloudflare Workers (workerd)', serviceUrl: '', accountsUrl: '' };
let sandbox: ConformanceSandbox | undefined;
const workers: MiniflareInstance[] = [];
let output = '';

async function startWorker(bindings: Record<string, string>, logins = false): Promise<URL> {
  const Miniflare = await loadMiniflare();
  const worker = new Miniflare({
    modules: true,
    scriptPath: WORKER,
    compatibilityDate: COMPATIBILITY_DATE,
    bindings,
    ...(logins ? { durableObjects: durableObjectsOfWrangler() } : {}),
    host: '127.0.0.1',
    port: 0,
    handleRuntimeStdio(stdout, stderr) {
      for (const stream of [stdout, stderr]) {
        stream.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
      }
    },
  });
  workers.push(worker);
  return worker.ready;
}

beforeAll(async () => {
  await promisify(execFile)(process.execPath, ['scripts/build-worker.mjs'], { cwd: ROOT });
  sandbox = await startConformanceSandbox();
  target.accountsUrl = sandbox.accountsUrl;
  target.serviceUrl = (await startWorker(conformanceEnv(sandbox.accountsUrl), true)).origin;
});
afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.dispose()));
  await sandbox?.close();
});

conformanceSuite(target);

describe('the Worker', () => {
  it('logs no secret', () => {
    expectNoSecrets(output);
  });

  it('answers every request with a JSON 500 naming what to fix while a binding is missing', async () => {
    const { SPOTIFY_CLIENT_SECRET: _, ...incomplete } = conformanceEnv(target.accountsUrl);
    const url = await startWorker(incomplete);
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
