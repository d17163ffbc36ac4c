/**
 * How long the AWS Lambda package takes to import, as a cold start pays it: `npm run build:lambda`
 * (the package template.yaml deploys, build/lambda.zip), unzipped into an empty folder, then per
 * sample a fresh Node 22 process (`npx -p node@22`, Lambda's nodejs22.x) that imports index.mjs
 * and reports the import's wall and CPU time. Beside it, per sample too: what loading ioredis adds
 * (an environment with REDIS_URL pays it at its first event; without, never), and the unbundled
 * entry (dist/runtimes/lambda.js on node_modules, the package before the bundle).
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
const unpacked = mkdtempSync(join(tmpdir(), 'lambda-package-'));
const sandbox = await startConformanceSandbox();
try {
  execFileSync('unzip', ['-q', zip, '-d', unpacked]);
  const bundle = pathToFileURL(join(unpacked, 'index.mjs')).href;
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
  const rows = {
    bundle: [] as Probe[],
    unbundled: [] as Probe[],
    healthz: [] as Probe[],
    refresh: [] as Probe[],
  };
  // Interleaved, so that a burst of other work on the machine hits each alike.
  for (let i = 0; i < SAMPLES; i += 1) {
    rows.bundle.push(await probe(node, bundle, { env, redis: true }));
    rows.unbundled.push(await probe(node, unbundled, { env }));
    rows.healthz.push(await probe(node, bundle, { env, event: healthz }));
    rows.refresh.push(await probe(node, bundle, { env, event: refresh }));
  }
  const of = (list: Probe[], key: keyof Probe) => fmt(summarize(list.map((p) => Number(p[key]))));
  const total = (list: Probe[], key: 'ms' | 'cpuMs') =>
    fmt(summarize(list.map((p) => p[key] + (key === 'ms' ? p.invokeMs : p.invokeCpuMs))));
  console.log(
    `Node ${version}, ${SAMPLES} fresh processes each; load average ${loadBefore} -> ${loadAverage()}`,
  );
  console.log(`package build/lambda.zip: ${(statSync(zip).size / 1024).toFixed(0)} KB`);
  console.log(`bundle import     wall ${of(rows.bundle, 'ms')}; CPU ${of(rows.bundle, 'cpuMs')}`);
  console.log(`+ ioredis (lazy)  wall ${of(rows.bundle, 'redisMs')}; CPU ${of(rows.bundle, 'redisCpuMs')}`);
  console.log(`unbundled import  wall ${of(rows.unbundled, 'ms')}; CPU ${of(rows.unbundled, 'cpuMs')}`);
  for (const [name, list] of [
    ['GET /healthz', rows.healthz],
    ['POST /refresh', rows.refresh],
  ] as const) {
    console.log(`${name}: import wall ${of(list, 'ms')}; CPU ${of(list, 'cpuMs')}`);
    console.log(`  first invocation wall ${of(list, 'invokeMs')}; CPU ${of(list, 'invokeCpuMs')}`);
    console.log(`  import + first invocation wall ${total(list, 'ms')}; CPU ${total(list, 'cpuMs')}`);
  }
} finally {
  await sandbox.close();
  rmSync(unpacked, { recursive: true, force: true });
}
