/**
 * Node, Deno and Bun side by side (docs/benchmarks.md, "Deno and Bun"): the same service, each on its
 * documented entry, in front of the same sandbox. Run: `npx tsx bench/runtimes.ts` after
 * `npm run build` and `npm ci --prefix test/runtimes` (Deno and Bun come from there).
 *
 * Per runtime: the time from spawn to the first 200 on GET /healthz (a fresh process per sample,
 * interleaved, RUNTIMES_SAMPLES), then, in one long-lived process, the CPU time (utime + stime from
 * /proc/PID/stat, every thread) over a fixed number of refreshes of distinct sealed tokens
 * (RUNTIMES_REQUESTS, RUNTIMES_CONCURRENCY at a time) and the peak RSS (VmHWM) after them.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runtimeBinary } from '../test/runtimes/binaries.js';
import { mintCodes, REDIRECT_URI, refreshBody, sealedRefreshTokens, swapBody } from './grants.js';
import { cpuSeconds, killChildrenOnExit, peakRssBytes, startNode, stopAll } from './processes.js';
import { count, fmt, freePort, loadAverage, summarize, timeToHealthz, warmFetch } from './samples.js';
import { productionNodeFlags } from './servers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLES = count('RUNTIMES_SAMPLES', 10, 200);
const REQUESTS = count('RUNTIMES_REQUESTS', 2_000, 100_000);
const CONCURRENCY = count('RUNTIMES_CONCURRENCY', 8, 256);
const APP = {
  SPOTIFY_CLIENT_ID: 'sandbox-client-id',
  SPOTIFY_CLIENT_SECRET: 'sandbox-client-secret-not-for-production',
  SPOTIFY_REDIRECT_URI: REDIRECT_URI,
  ENCRYPTION_SECRET: 'runtimes-benchmark-sealing-secret-0123456789',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  RATE_LIMIT_SWAP_PER_MINUTE: '0',
  RATE_LIMIT_REFRESH_PER_MINUTE: '0',
  REDIS_URL: '',
};

/** Each runtime's documented start (docs/deploy/node.md, deno.md, bun.md). */
const RUNTIMES: Record<string, [string, string[]]> = {
  node: [process.execPath, [...productionNodeFlags(), join(ROOT, 'bin/token-swap.js'), 'serve']],
  deno: [runtimeBinary('deno'), ['run', '--allow-net', '--allow-env', join(ROOT, 'dist/runtimes/deno.js')]],
  bun: [runtimeBinary('bun'), [join(ROOT, 'dist/runtimes/bun.js')]],
};

interface Row {
  startMs: number[];
  startCpuMs: number[];
  cpuPerRequestUs?: number;
  peakRssMb?: number;
  errors?: number;
}

/** REQUESTS refreshes, CONCURRENCY in flight, each token in at most one request at a time. */
async function refreshes(url: string, tokens: readonly string[]): Promise<number> {
  let next = 0;
  let errors = 0;
  const worker = async (slot: number) => {
    for (let turn = 0; next < REQUESTS; turn += 1) {
      next += 1;
      const token = tokens[slot + CONCURRENCY * (turn % Math.floor(tokens.length / CONCURRENCY))] ?? '';
      const response = await fetch(`${url}/refresh`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: refreshBody(token),
      });
      await response.arrayBuffer();
      if (response.status !== 200) errors += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, slot) => worker(slot)));
  return errors;
}

async function underLoad(name: string, row: Row, accountsUrl: string, cwd: string): Promise<void> {
  const [command, args] = RUNTIMES[name] as [string, string[]];
  const port = await freePort();
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...APP, PORT: String(port), SPOTIFY_ACCOUNTS_URL: accountsUrl },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    for (let tries = 0; ; tries += 1) {
      if (
        await fetch(`${url}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (tries > 10_000 || child.exitCode !== null) throw new Error(`${name} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const codes = await mintCodes(accountsUrl, CONCURRENCY * 25, REDIRECT_URI);
    const tokens = await sealedRefreshTokens(url, codes, swapBody, CONCURRENCY);
    // A warm-up of a tenth, not counted: the JIT's first compilations are start-up, not per request.
    await refreshes(url, tokens.slice(0, CONCURRENCY * 5)).catch(() => undefined);
    const pid = child.pid ?? 0;
    const before = cpuSeconds(pid) ?? 0;
    row.errors = await refreshes(url, tokens);
    row.cpuPerRequestUs = (((cpuSeconds(pid) ?? 0) - before) / REQUESTS) * 1e6;
    row.peakRssMb = (peakRssBytes(pid) ?? 0) / 2 ** 20;
  } finally {
    child.kill('SIGKILL');
  }
}

killChildrenOnExit();
const cwd = mkdtempSync(join(tmpdir(), 'runtimes-bench-'));
try {
  await warmFetch();
  const rows: Record<string, Row> = {};
  for (const name of Object.keys(RUNTIMES)) rows[name] = { startMs: [], startCpuMs: [] };
  const loadBefore = loadAverage();
  for (let i = 0; i < SAMPLES; i += 1) {
    for (const [name, [command, args]] of Object.entries(RUNTIMES)) {
      const port = await freePort();
      const sample = await timeToHealthz(command, args, {
        env: { ...process.env, ...APP, PORT: String(port) },
        cwd,
        port,
      });
      rows[name]?.startMs.push(sample.ms);
      if (sample.cpuMs !== undefined) rows[name]?.startCpuMs.push(sample.cpuMs);
    }
  }
  const sandbox = await startNode({
    name: 'sandbox',
    args: [join(ROOT, 'bin/token-swap.js'), 'sandbox', '--host', '127.0.0.1', '--port', '0'],
    env: { ...process.env, ...APP, LOG_LEVEL: 'warn' },
    cwd,
    stdout: 'ignore',
  });
  for (const name of Object.keys(RUNTIMES)) await underLoad(name, rows[name] as Row, sandbox.url, cwd);
  const version = (command: string) =>
    execFileSync(command, ['--version'], { encoding: 'utf8' }).split('\n')[0]?.trim();
  console.log(
    `${SAMPLES} starts each; ${REQUESTS} refreshes, ${CONCURRENCY} at a time; load average ${loadBefore} -> ${loadAverage()}`,
  );
  for (const [name, row] of Object.entries(rows)) {
    console.log(
      `  ${name.padEnd(5)} ${version((RUNTIMES[name] as [string, string[]])[0])}: start ${fmt(summarize(row.startMs))} (CPU ${fmt(summarize(row.startCpuMs))}); ` +
        `${row.cpuPerRequestUs?.toFixed(0)} µs CPU/refresh, ${row.errors} errors; peak RSS ${row.peakRssMb?.toFixed(1)} MB`,
    );
  }
} finally {
  await stopAll();
  rmSync(cwd, { recursive: true, force: true });
}
