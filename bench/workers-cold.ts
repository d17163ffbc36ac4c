/**
 * CPU of a fresh Workers isolate's first request, in workerd through Miniflare, beside a bare Worker
 * (one that answers every request with a fixed JSON body) measured the same way. docs/benchmarks.md,
 * "Cloudflare Workers", has the commands, the method and the numbers.
 *
 * Each sample starts a new workerd (a fresh isolate, its module already evaluated, as Cloudflare runs
 * a module's start before the first request), waits until the process is idle, sends one request and
 * counts the process's CPU from before it to when the process is idle again. The counter is the sum of
 * its threads' /proc/PID/task/TID/schedstat run times (nanoseconds; /proc/PID/stat counts 10 ms ticks,
 * coarser than what is measured). Samples of the two Workers alternate, so load on the machine falls on
 * both alike; the minimum is the cost with the least interference, the median the typical one.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type ConformanceSandbox,
  conformanceEnv,
  startConformanceSandbox,
} from '../test/conformance/suite.js';
import { REDIRECT_URI } from '../test/helpers/stack.js';
import { loadMiniflare, MINIFLARE_MAJOR, type MiniflareOptions } from '../test/runtimes/binaries.js';
import { buildWorker, wrangler } from '../test/runtimes/workers-miniflare.js';
import { mintCodes } from './grants.js';

const SAMPLES = Number(process.env.WORKERS_COLD_SAMPLES ?? 30);
/** Another bundle to measure instead of wrangler.toml's (e.g. an older build, for a before/after). */
const BUNDLE = process.env.WORKERS_COLD_BUNDLE;
const BARE = `export default { fetch() { return new Response('{"ok":true}', { headers: { 'content-type': 'application/json' } }); } };`;

/** CPU nanoseconds the process `pid` has run, all threads. */
function cpuNs(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return total;
}

/** The workerd process among this process's children. */
function workerdPid(): number {
  for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
    for (const child of readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8').split(' ')) {
      if (child && readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'workerd') return Number(child);
    }
  }
  throw new Error('no workerd process among the children');
}

/** Polls until `pid` runs less than 0.05 ms in 25 ms, at most 5 s: its CPU count then. */
async function idleCpuNs(pid: number): Promise<number> {
  let last = cpuNs(pid);
  for (let tries = 0; tries < 200; tries += 1) {
    await delay(25);
    const now = cpuNs(pid);
    if (now - last < 50_000) return now;
    last = now;
  }
  throw new Error('workerd did not settle within 5 s');
}

type Kind = 'service' | 'bare';

interface Probe {
  path: string;
  init: () => RequestInit;
}

async function sample(kind: Kind, env: Record<string, string>, probe: Probe): Promise<number> {
  const Miniflare = await loadMiniflare();
  const source: Partial<MiniflareOptions> =
    kind === 'bare' ? { script: BARE } : { scriptPath: BUNDLE ?? (await bundlePath) };
  const miniflare = new Miniflare({
    modules: true,
    ...source,
    compatibilityDate: wrangler.compatibility_date,
    bindings: kind === 'bare' ? {} : env,
    host: '127.0.0.1',
    port: 0,
    handleRuntimeStdio(stdout, stderr) {
      stdout.resume();
      stderr.resume();
    },
  });
  try {
    const url = await miniflare.ready;
    const pid = workerdPid();
    const before = await idleCpuNs(pid);
    const answer = await fetch(new URL(probe.path, url), probe.init());
    await answer.arrayBuffer();
    if (kind === 'service' && answer.status !== 200) throw new Error(`the service answered ${answer.status}`);
    return (await idleCpuNs(pid)) - before;
  } finally {
    await miniflare.dispose();
  }
}

/** A refresh token the service sealed: one swap through a Worker of the bundle. */
async function sealedRefreshToken(sandbox: ConformanceSandbox, env: Record<string, string>): Promise<string> {
  const Miniflare = await loadMiniflare();
  const [code] = await mintCodes(sandbox.accountsUrl, 1, REDIRECT_URI);
  const miniflare = new Miniflare({
    modules: true,
    scriptPath: BUNDLE ?? (await bundlePath),
    compatibilityDate: wrangler.compatibility_date,
    bindings: env,
    host: '127.0.0.1',
    port: 0,
    handleRuntimeStdio(stdout, stderr) {
      stdout.resume();
      stderr.resume();
    },
  });
  try {
    const url = await miniflare.ready;
    const body = new URLSearchParams({ code: code ?? '', redirect_uri: REDIRECT_URI });
    const answer = await fetch(new URL('/swap', url), { method: 'POST', body });
    const json = (await answer.json()) as { refresh_token?: string };
    if (typeof json.refresh_token !== 'string') throw new Error(`swap failed: HTTP ${answer.status}`);
    return json.refresh_token;
  } finally {
    await miniflare.dispose();
  }
}

const ms = (ns: number) => (ns / 1e6).toFixed(2);
function stats(values: number[]): { min: string; median: string; max: string } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    min: ms(sorted[0] ?? Number.NaN),
    median: ms(sorted[Math.floor(sorted.length / 2)] ?? Number.NaN),
    max: ms(sorted.at(-1) ?? Number.NaN),
  };
}

const bundlePath = BUNDLE === undefined ? buildWorker() : Promise.resolve(BUNDLE);

const sandbox = await startConformanceSandbox();
try {
  const bundle = await bundlePath;
  const env = conformanceEnv(sandbox.accountsUrl);
  const refreshToken = await sealedRefreshToken(sandbox, env);
  const probes: Record<string, Probe> = {
    'GET /healthz': { path: '/healthz', init: () => ({}) },
    'POST /refresh': {
      path: '/refresh',
      init: () => ({ method: 'POST', body: new URLSearchParams({ refresh_token: refreshToken }) }),
    },
  };
  const loadBefore = loadavg();
  const results: Record<string, Record<Kind, number[]>> = Object.fromEntries(
    Object.keys(probes).map((name) => [name, { service: [], bare: [] }]),
  );
  for (let i = 0; i < SAMPLES; i += 1) {
    for (const [name, probe] of Object.entries(probes)) {
      for (const kind of ['bare', 'service'] as const)
        results[name]?.[kind].push(await sample(kind, env, probe));
    }
  }
  const loadAfter = loadavg();
  console.log(
    JSON.stringify(
      {
        miniflare: MINIFLARE_MAJOR,
        node: process.version,
        bundle: { path: bundle, bytes: statSync(bundle).size },
        samples: SAMPLES,
        loadAverage: {
          before: loadBefore.map((l) => l.toFixed(2)),
          after: loadAfter.map((l) => l.toFixed(2)),
        },
        firstRequestCpuMs: Object.fromEntries(
          Object.entries(results).map(([name, r]) => [
            name,
            { service: stats(r.service), bare: stats(r.bare) },
          ]),
        ),
      },
      null,
      2,
    ),
  );
} finally {
  await sandbox.close();
}
