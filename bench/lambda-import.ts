/**
 * How long the AWS Lambda package takes to import, as a cold start pays it: `npm run build:lambda`
 * (the package template.yaml deploys, build/lambda.zip), unzipped into an empty folder, then per
 * sample a fresh Node 22 process (`npx -p node@22`, Lambda's nodejs22.x) that imports index.mjs
 * and reports the import's wall and CPU time. Beside it, per sample too: what loading ioredis adds
 * (an environment with REDIS_URL pays it at its first event; without, never), and the unbundled
 * entry (dist/runtimes/lambda.js on node_modules, the package before the bundle).
 * docs/benchmarks.md, "AWS Lambda". Run: `npx tsx bench/lambda-import.ts` (LAMBDA_SAMPLES=30).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { count, fmt, loadAverage, node22, summarize } from './samples.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLES = count('LAMBDA_SAMPLES', 30, 1000);

/** Runs in the sample's process: the import (and, with a second argument, ioredis) timed there. */
const PROBE = `
const [entry, withRedis] = process.argv.slice(1);
const t0 = performance.now(), c0 = process.cpuUsage();
const m = await import(entry);
if (typeof m.handler !== 'function') throw new Error('no handler');
const c1 = process.cpuUsage(c0), t1 = performance.now();
let redisMs = 0, redisCpuMs = 0;
if (withRedis) {
  const { createRequire } = await import('node:module');
  const c2 = process.cpuUsage(), t2 = performance.now();
  createRequire(entry)('ioredis');
  redisMs = performance.now() - t2; redisCpuMs = (process.cpuUsage(c2).user + process.cpuUsage(c2).system) / 1000;
}
console.log(JSON.stringify({ ms: t1 - t0, cpuMs: (c1.user + c1.system) / 1000, redisMs, redisCpuMs }));
`;

interface Probe {
  ms: number;
  cpuMs: number;
  redisMs: number;
  redisCpuMs: number;
}

function probe(node: string, entry: string, withRedis: boolean): Probe {
  const args = ['--input-type=module', '-e', PROBE, entry, ...(withRedis ? ['redis'] : [])];
  return JSON.parse(execFileSync(node, args, { encoding: 'utf8', cwd: tmpdir() })) as Probe;
}

const node = await node22();
const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
execFileSync('npm', ['run', '--silent', 'build:lambda'], { cwd: ROOT, stdio: 'inherit' });
const zip = join(ROOT, 'build/lambda.zip');
const unpacked = mkdtempSync(join(tmpdir(), 'lambda-package-'));
try {
  execFileSync('unzip', ['-q', zip, '-d', unpacked]);
  const bundle = pathToFileURL(join(unpacked, 'index.mjs')).href;
  const unbundled = pathToFileURL(join(ROOT, 'dist/runtimes/lambda.js')).href;
  const loadBefore = loadAverage();
  const rows = { bundle: [] as Probe[], unbundled: [] as Probe[] };
  // Interleaved, so that a burst of other work on the machine hits both alike.
  for (let i = 0; i < SAMPLES; i += 1) {
    rows.bundle.push(probe(node, bundle, true));
    rows.unbundled.push(probe(node, unbundled, false));
  }
  const of = (list: Probe[], key: keyof Probe) => fmt(summarize(list.map((p) => p[key])));
  console.log(
    `Node ${version}, ${SAMPLES} fresh processes each; load average ${loadBefore} -> ${loadAverage()}`,
  );
  console.log(`package build/lambda.zip: ${(statSync(zip).size / 1024).toFixed(0)} KB`);
  console.log(`bundle import     wall ${of(rows.bundle, 'ms')}; CPU ${of(rows.bundle, 'cpuMs')}`);
  console.log(`+ ioredis (lazy)  wall ${of(rows.bundle, 'redisMs')}; CPU ${of(rows.bundle, 'redisCpuMs')}`);
  console.log(`unbundled import  wall ${of(rows.unbundled, 'ms')}; CPU ${of(rows.unbundled, 'cpuMs')}`);
} finally {
  rmSync(unpacked, { recursive: true, force: true });
}
