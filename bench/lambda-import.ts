/**
 * What the AWS Lambda package costs a cold start: `npm run build:lambda` (the package template.yaml
 * deploys, build/lambda.zip), unzipped into an empty folder, then per sample a fresh Node 22 process
 * (`npx -p node@22`, Lambda's nodejs22.x) that imports index.mjs (Lambda's init phase) and reports the
 * import's wall and CPU time; then, in fresh processes of their own, the import followed by the first
 * invocation of a `GET /healthz` and of a `POST /refresh` event (against the sandbox, in this process),
 * timed apart. Beside it, per sample too: what loading ioredis adds (an environment with REDIS_URL
 * pays it at its init; without, never), and the unbundled entry (dist/runtimes/lambda.js on
 * node_modules, the package before the bundle). LAMBDA_COMPARE names another zip (an older build) to
 * measure the same way, interleaved: a before and after.
 * docs/benchmarks.md, "AWS Lambda". Run: `npx tsx bench/lambda-import.ts` (LAMBDA_SAMPLES=30).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { LambdaEvent } from 'hono/aws-lambda';
import { conformanceEnv, startConformanceSandbox } from '../test/conformance/suite.js';
import { REDIRECT_URI } from '../test/helpers/stack.js';
import { mintCodes } from './grants.js';
import { count, fmt, loadAverage, node22, summarize } from './samples.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLES = count('LAMBDA_SAMPLES', 30, 1000);
/** Another package (a zip) measured beside build/lambda.zip, its samples interleaved: a before/after. */
const COMPARE = process.env.LAMBDA_COMPARE;

/**
 * Runs in the sample's process: the import (and, with REDIS, ioredis) timed there; with EVENT, then
 * the first invocation of the handler with that event, timed too. The result is the last line of
 * stdout (the service logs to it).
 */
const PROBE = `
const [entry] = process.argv.slice(1);
const cpu = (c) => (c.user + c.system) / 1000;
const t0 = performance.now(), c0 = process.cpuUsage();
const m = await import(entry);
if (typeof m.handler !== 'function') throw new Error('no handler');
const c1 = process.cpuUsage(c0), t1 = performance.now();
const out = { ms: t1 - t0, cpuMs: cpu(c1), redisMs: 0, redisCpuMs: 0, invokeMs: 0, invokeCpuMs: 0 };
if (process.env.REDIS) {
  const { createRequire } = await import('node:module');
  const c2 = process.cpuUsage(), t2 = performance.now();
  createRequire(entry)('ioredis');
  out.redisMs = performance.now() - t2; out.redisCpuMs = cpu(process.cpuUsage(c2));
}
if (process.env.EVENT) {
  const event = JSON.parse(process.env.EVENT);
  const c3 = process.cpuUsage(), t3 = performance.now();
  const result = await m.handler(event);
  out.invokeMs = performance.now() - t3; out.invokeCpuMs = cpu(process.cpuUsage(c3));
  out.status = result.statusCode;
  out.body = result.body;
}
process.stdout.write('\\n' + JSON.stringify(out) + '\\n');
process.exit(0);
`;

interface Probe {
  ms: number;
  cpuMs: number;
  redisMs: number;
  redisCpuMs: number;
  invokeMs: number;
  invokeCpuMs: number;
  status?: number;
  body?: string;
}

interface Options {
  redis?: boolean;
  event?: LambdaEvent;
  env?: Record<string, string>;
}

/** Not synchronous: the sandbox a refresh calls runs in this process. */
async function probe(node: string, entry: string, options: Options = {}): Promise<Probe> {
  const args = ['--input-type=module', '-e', PROBE, entry];
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', ...options.env };
  if (options.redis) env.REDIS = '1';
  if (options.event) env.EVENT = JSON.stringify(options.event);
  const { stdout: output } = await promisify(execFile)(node, args, { encoding: 'utf8', cwd: tmpdir(), env });
  const result = JSON.parse(output.trim().split('\n').at(-1) ?? '') as Probe;
  if (options.event && result.status !== 200) throw new Error(`the first event answered ${result.status}`);
  return result;
}

/** A recorded event (test/runtimes/events/) on another path, its body `body` (base64, as recorded). */
function event(name: string, path: string, body?: string): LambdaEvent {
  const recorded = JSON.parse(
    readFileSync(join(ROOT, `test/runtimes/events/${name}.json`), 'utf8'),
  ) as LambdaEvent & {
    rawPath: string;
    body?: string;
    headers: Record<string, string>;
    requestContext: { http: { path: string } };
  };
  recorded.rawPath = path;
  recorded.requestContext.http.path = path;
  if (body !== undefined) {
    recorded.body = Buffer.from(body).toString('base64');
    recorded.headers['content-length'] = String(Buffer.byteLength(body));
  }
  return recorded;
}

const node = await node22();
const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
execFileSync('npm', ['run', '--silent', 'build:lambda'], { cwd: ROOT, stdio: 'inherit' });
const zip = join(ROOT, 'build/lambda.zip');
const packages = [{ name: 'build/lambda.zip', zip }, ...(COMPARE ? [{ name: COMPARE, zip: COMPARE }] : [])];
const folders = packages.map(() => mkdtempSync(join(tmpdir(), 'lambda-package-')));
const sandbox = await startConformanceSandbox();
try {
  const entries = packages.map((p, i) => {
    execFileSync('unzip', ['-q', p.zip, '-d', folders[i] as string]);
    return pathToFileURL(join(folders[i] as string, 'index.mjs')).href;
  });
  const [bundle = ''] = entries;
  const unbundled = pathToFileURL(join(ROOT, 'dist/runtimes/lambda.js')).href;
  // The configuration as deployed: the default rate limits, the sandbox as Spotify Accounts.
  const { RATE_LIMIT_SWAP_PER_MINUTE, RATE_LIMIT_REFRESH_PER_MINUTE, ...env } = conformanceEnv(
    sandbox.accountsUrl,
  );
  // A refresh token the package sealed, from one swap in a process of its own.
  const [code = ''] = await mintCodes(sandbox.accountsUrl, 1, REDIRECT_URI);
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const swapped = await probe(node, bundle, {
    env,
    event: event('function-url.swap', '/swap', form({ code, redirect_uri: REDIRECT_URI })),
  });
  const { refresh_token: refreshToken } = JSON.parse(swapped.body ?? '{}') as { refresh_token: string };
  const healthz = event('function-url.wrong-method', '/healthz');
  const refresh = event('function-url.refresh', '/refresh', form({ refresh_token: refreshToken }));
  const loadBefore = loadAverage();
  const rows = entries.map(() => ({ bundle: [] as Probe[], healthz: [] as Probe[], refresh: [] as Probe[] }));
  const unbundledRows: Probe[] = [];
  // Interleaved, so that a burst of other work on the machine hits each alike.
  for (let i = 0; i < SAMPLES; i += 1) {
    for (const [j, entry] of entries.entries()) {
      const row = rows[j] as (typeof rows)[number];
      row.bundle.push(await probe(node, entry, { env, redis: true }));
      row.healthz.push(await probe(node, entry, { env, event: healthz }));
      row.refresh.push(await probe(node, entry, { env, event: refresh }));
    }
    unbundledRows.push(await probe(node, unbundled, { env }));
  }
  const of = (list: Probe[], key: keyof Probe) => fmt(summarize(list.map((p) => Number(p[key]))));
  const total = (list: Probe[], key: 'ms' | 'cpuMs') =>
    fmt(summarize(list.map((p) => p[key] + (key === 'ms' ? p.invokeMs : p.invokeCpuMs))));
  console.log(
    `Node ${version}, ${SAMPLES} fresh processes each; load average ${loadBefore} -> ${loadAverage()}`,
  );
  for (const [j, row] of rows.entries()) {
    const { name, zip: file } = packages[j] as (typeof packages)[number];
    console.log(`package ${name}: ${(statSync(file).size / 1024).toFixed(0)} KB`);
    console.log(`  import            wall ${of(row.bundle, 'ms')}; CPU ${of(row.bundle, 'cpuMs')}`);
    console.log(`  + ioredis (lazy)  wall ${of(row.bundle, 'redisMs')}; CPU ${of(row.bundle, 'redisCpuMs')}`);
    for (const [probeName, list] of [
      ['GET /healthz', row.healthz],
      ['POST /refresh', row.refresh],
    ] as const) {
      console.log(`  ${probeName}: import wall ${of(list, 'ms')}; CPU ${of(list, 'cpuMs')}`);
      console.log(`    first invocation wall ${of(list, 'invokeMs')}; CPU ${of(list, 'invokeCpuMs')}`);
      console.log(`    import + first invocation wall ${total(list, 'ms')}; CPU ${total(list, 'cpuMs')}`);
    }
  }
  console.log(`unbundled import  wall ${of(unbundledRows, 'ms')}; CPU ${of(unbundledRows, 'cpuMs')}`);
} finally {
  await sandbox.close();
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
}
