/**
 * The console logger (every runtime but Node's server, which logs with pino through the same walk)
 * censors secret-named fields at any depth, snake_case and camelCase alike, in the log object and in a
 * child's bindings, on each runtime that uses it: Node (Lambda), Deno, Bun and workerd. Each runtime
 * runs the built logger (dist/) and prints what it logged; nothing is mocked.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { loadMiniflare, runtimeBinary } from './binaries.js';
import { wrangler } from './workers-miniflare.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LOGGER = pathToFileURL(join(ROOT, 'dist/runtimes/console-logger.js')).href;

/** Values that must never appear in a log line, each under a key that names a secret. */
const SECRETS = {
  clientSecret: 'never-logged-client-secret',
  refresh_token: 'never-logged-refresh-token',
  encryptionSecrets: 'never-logged-sealing-secret',
  redisUrl: 'redis://:never-logged-password@redis',
  authorization: 'Bearer never-logged-access-token',
  bound: 'never-logged-bound-code-verifier',
};

/** What each runtime runs: one line, with secrets at the top, nested, in an array and in child bindings. */
const PROBE_BODY = `
const logger = createConsoleLogger('debug').child({ requestId: 'r1', codeVerifier: ${JSON.stringify(SECRETS.bound)} });
logger.info({
  app: 'visible-app-name',
  clientSecret: ${JSON.stringify(SECRETS.clientSecret)},
  upstream: { answer: { refresh_token: ${JSON.stringify(SECRETS.refresh_token)} } },
  config: { encryptionSecrets: [${JSON.stringify(SECRETS.encryptionSecrets)}], redisUrl: ${JSON.stringify(SECRETS.redisUrl)} },
  headers: [{ Authorization: ${JSON.stringify(SECRETS.authorization)} }],
}, 'probe');
`;

function expectCensored(output: string): void {
  const line = output.split('\n').find((l) => l.includes('"msg":"probe"'));
  expect(line, output).toBeDefined();
  const entry = JSON.parse(line ?? '{}') as Record<string, unknown>;
  expect(entry).toMatchObject({
    app: 'visible-app-name',
    requestId: 'r1',
    codeVerifier: '[redacted]',
    clientSecret: '[redacted]',
    upstream: { answer: { refresh_token: '[redacted]' } },
    config: { encryptionSecrets: '[redacted]', redisUrl: '[redacted]' },
    headers: [{ Authorization: '[redacted]' }],
  });
  for (const secret of Object.values(SECRETS)) expect(output).not.toContain(secret);
}

function probeFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'token-swap-log-'));
  const file = join(dir, 'probe.mjs');
  writeFileSync(file, `import { createConsoleLogger } from ${JSON.stringify(LOGGER)};\n${PROBE_BODY}`);
  return file;
}

describe('the console logger censors nested and camelCase secrets on every runtime', () => {
  it('on Node (the Lambda entry)', async () => {
    const { stdout } = await run(process.execPath, [probeFile()]);
    expectCensored(stdout);
  });

  it('on Deno', async () => {
    const { stdout } = await run(runtimeBinary('deno'), ['run', '--quiet', '--allow-read', probeFile()], {
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    });
    expectCensored(stdout);
  });

  it('on Bun', async () => {
    const { stdout } = await run(runtimeBinary('bun'), [probeFile()]);
    expectCensored(stdout);
  });

  it('on workerd', async () => {
    const bundled = await build({
      stdin: {
        contents: `import { createConsoleLogger } from './src/runtimes/console-logger.ts';
export default { async fetch() { ${PROBE_BODY} return new Response('logged'); } };`,
        resolveDir: ROOT,
        loader: 'ts',
      },
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      write: false,
      logLevel: 'silent',
    });
    let output = '';
    const Miniflare = await loadMiniflare();
    const worker = new Miniflare({
      modules: true,
      script: bundled.outputFiles[0]?.text ?? '',
      compatibilityDate: wrangler.compatibility_date,
      host: '127.0.0.1',
      port: 0,
      handleRuntimeStdio(stdout, stderr) {
        for (const stream of [stdout, stderr])
          stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
      },
    });
    try {
      const response = await fetch(await worker.ready);
      expect(await response.text()).toBe('logged');
      await expect.poll(() => output).toContain('"msg":"probe"');
      expectCensored(output);
    } finally {
      await worker.dispose();
    }
  });
});
