/**
 * CPU of a fresh Workers isolate's first request, in workerd through Miniflare, beside a bare Worker
 * (one that answers every request with a fixed JSON body) measured the same way, and for `/refresh`
 * beside a bare Worker that makes the one call to Accounts a refresh makes. docs/benchmarks.md,
 * "Cloudflare Workers", has the commands, the method and the numbers.
 *
 * Each sample starts a new workerd (a fresh isolate, its module already evaluated, as Cloudflare runs
 * a module's start before the first request), waits until the process is idle, sends one request and
 * counts the process's CPU from before it to when the process is idle again. The counter is the sum of
 * its threads' /proc/PID/task/TID/schedstat run times (nanoseconds; /proc/PID/stat counts 10 ms ticks,
 * coarser than what is measured). Samples of the Workers alternate, so load on the machine falls on
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
/** A second service bundle measured in the same run, its samples alternating with the first's. */
const COMPARE = process.env.WORKERS_COLD_COMPARE;
const BARE = `export default { fetch() { return new Response('{"ok":true}', { headers: { 'content-type': 'application/json' } }); } };`;
/**
 * The least a `/refresh` must do besides its own code: read the form, make one call to Accounts (workerd's
 * HTTP client counts in the process's CPU) and answer with its body. The sandbox refuses the call
 * (the token is sealed): the round trip is what is measured.
 */
const BARE_FETCH = `export default { async fetch(request, env) {
  const body = (await request.text()) + '&grant_type=refresh_token';
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  const upstream = await fetch(new URL('/api/token', env.SPOTIFY_ACCOUNTS_URL), { method: 'POST', headers, body });
  return new Response(await upstream.text(), { headers: { 'content-type': 'application/json' } });
} };`;

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

type Kind = 'service' | 'compare' | 'bare' | 'bare+fetch';

interface Probe {
  path: string;
  init: () => RequestInit;
  /** The Workers it is measured on, the service's first. */
  kinds: readonly Kind[];
}

const SCRIPTS: Partial<Record<Kind, string>> = { bare: BARE, 'bare+fetch': BARE_FETCH };

async function sample(kind: Kind, env: Record<string, string>, probe: Probe): Promise<number> {
  const Miniflare = await loadMiniflare();
  const script = SCRIPTS[kind];
  const scriptPath = kind === 'compare' ? COMPARE : (BUNDLE ?? (await bundlePath));
  const source: Partial<MiniflareOptions> = script === undefined ? { scriptPath } : { script };
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
    if (script === undefined && answer.status !== 200)
      throw new Error(`the ${kind} answered ${answer.status}`);
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
  const services: Kind[] = COMPARE === undefined ? ['service'] : ['service', 'compare'];
  const refreshToken = await sealedRefreshToken(sandbox, env);
  const probes: Record<string, Probe> = {
    'GET /healthz': { path: '/healthz', init: () => ({}), kinds: [...services, 'bare'] },
    'POST /refresh': {
      path: '/refresh',
      init: () => ({ method: 'POST', body: new URLSearchParams({ refresh_token: refreshToken }) }),
      kinds: [...services, 'bare', 'bare+fetch'],
    },
  };
  const loadBefore = loadavg();
  const results: Record<string, Partial<Record<Kind, number[]>>> = Object.fromEntries(
    Object.entries(probes).map(([name, probe]) => [
      name,
      Object.fromEntries(probe.kinds.map((k) => [k, []])),
    ]),
  );
  for (let i = 0; i < SAMPLES; i += 1) {
    for (const [name, probe] of Object.entries(probes)) {
      for (const kind of probe.kinds) results[name]?.[kind]?.push(await sample(kind, env, probe));
    }
  }
  const loadAfter = loadavg();
  console.log(
    JSON.stringify(
      {
        miniflare: MINIFLARE_MAJOR,
        node: process.version,
        bundle: { path: bundle, bytes: statSync(bundle).size },
        ...(COMPARE === undefined ? {} : { compare: { path: COMPARE, bytes: statSync(COMPARE).size } }),
        samples: SAMPLES,
        loadAverage: {
          before: loadBefore.map((l) => l.toFixed(2)),
          after: loadAfter.map((l) => l.toFixed(2)),
        },
        firstRequestCpuMs: Object.fromEntries(
          Object.entries(results).map(([name, byKind]) => [
            name,
            Object.fromEntries(Object.entries(byKind).map(([kind, values]) => [kind, stats(values)])),
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
