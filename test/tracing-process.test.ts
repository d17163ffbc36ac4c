/**
 * Tracing as a deployed process has it, from the built entry points (dist/; `npm run build` first):
 * `token-swap serve` exports the spans it still buffers when SIGTERM stops it, and the OpenTelemetry
 * SDK is loaded only when tracing is configured (src/runtimes/node/tracing.ts).
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox } from '../src/sandbox/index.js';
import { conformanceEnv } from './conformance/suite.js';
import { emptyDir, runCli } from './helpers/cli.js';
import { type Listening, listen } from './helpers/listen.js';
import { startReceiver } from './helpers/otlp-receiver.js';
import { authorize, CLIENT_ID, CLIENT_SECRET, postForm, REDIRECT_URI, SECRET_A } from './helpers/stack.js';

const { version: VERSION } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as {
  version: string;
};

let accounts: Listening;
beforeAll(async () => {
  const sandbox = createSandbox({
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
    autoApprove: true,
  });
  accounts = await listen(sandbox.app.fetch);
});
afterAll(async () => {
  await accounts.close();
});

describe('token-swap serve with tracing', () => {
  it('exports the buffered spans when SIGTERM stops it, and still exits 0', async () => {
    const receiver = await startReceiver();
    try {
      // From the .env file, which the OpenTelemetry SDK would not read by itself.
      const cwd = emptyDir();
      writeFileSync(
        join(cwd, '.env'),
        `OTEL_EXPORTER_OTLP_ENDPOINT=${receiver.url}\nOTEL_EXPORTER_OTLP_PROTOCOL=http/json\n`,
      );
      const run = runCli(['serve', '--port', '0'], {
        cwd,
        env: {
          SPOTIFY_CLIENT_ID: CLIENT_ID,
          SPOTIFY_CLIENT_SECRET: CLIENT_SECRET,
          SPOTIFY_REDIRECT_URI: REDIRECT_URI,
          SPOTIFY_ACCOUNTS_URL: accounts.url,
          ENCRYPTION_SECRET: SECRET_A,
          OTEL_SERVICE_NAME: 'swap-under-test',
          // No export on the timer during the test: whatever arrives was flushed by the shutdown.
          OTEL_BSP_SCHEDULE_DELAY: '600000',
        },
      });
      const [, url] = await run.waitFor(/listening on (http:\/\/\S+)/);
      const { code } = await authorize(accounts.url);
      const swapped = await postForm(`${url}/swap`, { code });
      expect(swapped.status).toBe(200);
      const { refresh_token } = (await swapped.json()) as { refresh_token: string };
      expect((await postForm(`${url}/refresh`, { refresh_token })).status).toBe(200);
      expect(receiver.exports).toEqual([]);

      run.child.kill('SIGTERM');
      expect(await run.exited).toEqual({ code: 0, signal: null });
      const spans = receiver.spans();
      expect(spans.map((span) => span.name).sort()).toEqual(['POST', 'POST', 'POST /refresh', 'POST /swap']);
      expect(spans[0]?.resource).toMatchObject({
        'service.name': 'swap-under-test',
        'service.version': VERSION,
      });
    } finally {
      await receiver.close();
    }
  });
});

const run = promisify(execFile);
const DIST = new URL('../dist/', import.meta.url).href;
const EVENT = new URL('runtimes/events/function-url.wrong-method.json', import.meta.url).href;

const ENTRIES = {
  lambda: `
const { handler } = await import('${DIST}runtimes/lambda.js');
const answer = await handler(JSON.parse(readFileSync(new URL('${EVENT}'), 'utf8')));
if (answer.statusCode !== 405) throw new Error('unexpected status ' + answer.statusCode);`,
  node: `
const { createNodeService } = await import('${DIST}runtimes/node/index.js');
const { loadConfig } = await import('${DIST}server/config/index.js');
const { silentLogger } = await import('${DIST}server/logger.js');
await createNodeService(loadConfig(process.env), { logger: silentLogger }).close();`,
};

/**
 * Which OpenTelemetry SDK packages a fresh process running `entry` has in its CommonJS cache, and
 * what the process logged.
 */
async function runEntry(
  entry: keyof typeof ENTRIES,
  env: Record<string, string>,
): Promise<{ loaded: string[]; logged: string }> {
  const code = `import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
${ENTRIES[entry]}
const loaded = Object.keys(createRequire(import.meta.url).cache)
  .map((path) => /\\/node_modules\\/@opentelemetry\\/([^/]+)\\//.exec(path)?.[1])
  .filter((name) => name !== undefined && name !== 'api');
process.stdout.write('\\n' + JSON.stringify([...new Set(loaded)].sort()));
process.exit(0);`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], {
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 15_000,
  });
  const lines = stdout.split('\n');
  return { loaded: JSON.parse(lines.pop() ?? '') as string[], logged: lines.join('\n') };
}

describe('the OpenTelemetry SDK', () => {
  const env = conformanceEnv('http://127.0.0.1:9');
  // Nothing listens there; the entry only needs to be configured to trace.
  const traced = { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' };

  it('is not loaded by the Node entry without the OTEL_* variables', async () => {
    expect((await runEntry('node', env)).loaded).toEqual([]);
  });

  it('is loaded by the Node entry when tracing is configured, with the one exporter it uses', async () => {
    const { loaded } = await runEntry('node', traced);
    expect(loaded).toEqual(expect.arrayContaining(['sdk-trace', 'exporter-trace-otlp-proto', 'resources']));
    expect(loaded).not.toContain('exporter-trace-otlp-http');
  });

  it('is not loaded by the Lambda entry, which does not trace and says so (docs/observability.md)', async () => {
    const { loaded, logged } = await runEntry('lambda', traced);
    expect(loaded).toEqual([]);
    expect(logged).toContain('OTEL_* variables ask for traces, but only the Node server traces');
    expect((await runEntry('lambda', env)).logged).not.toContain('OTEL_');
  });
});
