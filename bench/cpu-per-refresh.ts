/**
 * CPU per `/refresh` over fixed request counts at a fixed rate, in front of the stub upstream
 * (bench/stub-accounts.ts): the Agent baseline (baseline.ts), the same work on Hono with the
 * service's upstream client (hono-baseline.ts), and the service with every feature on. The first gap
 * is the framework's, the second the features' (docs/benchmarks.md, "Where a refresh's CPU goes").
 *
 *   npx tsx bench/cpu-per-refresh.ts
 *
 * Env: CPU_RATE (req/s, default 600), CPU_SECONDS (per round and target, default 15), CPU_ROUNDS
 * (default 4; targets in ABC CBA order), CPU_WARMUP (s per target at full speed, default 3), CPU_PROFILE=1 (CPU profiles in bench/results/profiles),
 * CPU_STRACE=1 (a syscall count of each target per round, with strace), CPU_SERVICE_ENV (JSON: more
 * environment for the service, e.g. `{"LOG_LEVEL":"silent"}` to see what a feature costs),
 * CPU_COMPARE (another checkout's `bin/token-swap.js`, built: a fourth target, `before`, in the same
 * rounds, for a before and after), CPU_BEFORE_FLAGS (Node's flags for `before`, space-separated,
 * `none` for none: with it alone, `before` is this build under other flags, e.g. without the start
 * script's heap flags), CPU_BEFORE_ENV (JSON: environment for `before` only, over CPU_SERVICE_ENV; alone,
 * `before` is this build with a feature off, e.g. `{"LOG_LEVEL":"silent"}`, measured in the same rounds),
 * CPU_CLIENT_BASELINE=1 (a fourth baseline, client-baseline.ts: the Agent baseline's server with the
 * service's upstream client, which splits the framework's gap in two), CPU_GC=1 (every server's
 * garbage collections over the run, counted by gc-counter.ts). Each target's CPU is also told apart
 * in user and system time.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { GcTotals } from './gc-counter.js';
import {
  mintCodes,
  mintRefreshTokens,
  REDIRECT_URI,
  refreshBody,
  sealedRefreshTokens,
  swapBody,
} from './grants.js';
import { load, slicedPerConnection } from './load.js';
import { log } from './log.js';
import { type Child, cpuMeter, cpuTimes, killChildrenOnExit, peakRssBytes, stopAll } from './processes.js';
import { count } from './samples.js';
import { startBundledBaseline, startServers, startService } from './servers.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const CONNECTIONS = 20;
const TOKENS = 2_000;
type Target = 'baseline' | 'client' | 'hono' | 'service' | 'before';
const compareBin = process.env.CPU_COMPARE || undefined;
const beforeFlags = process.env.CPU_BEFORE_FLAGS?.trim() || undefined;
const beforeEnv = process.env.CPU_BEFORE_ENV?.trim() || undefined;
const hasBefore = compareBin !== undefined || beforeFlags !== undefined || beforeEnv !== undefined;
const withClient = process.env.CPU_CLIENT_BASELINE === '1';
const TARGETS: readonly Target[] = [
  'baseline',
  ...(withClient ? (['client'] as const) : []),
  'hono',
  ...(hasBefore ? (['before'] as const) : []),
  'service',
];

const rate = count('CPU_RATE', 600, 100_000);
const seconds = count('CPU_SECONDS', 15, 600);
const rounds = count('CPU_ROUNDS', 4, 40);
const warmupSeconds = count('CPU_WARMUP', 3, 60);
const profileDir = process.env.CPU_PROFILE === '1' ? join(BENCH_DIR, 'results', 'profiles') : undefined;
const countGc = process.env.CPU_GC === '1';
const LABELS: Record<Target, string> = {
  baseline: 'Agent baseline',
  client: 'client baseline',
  hono: 'Hono baseline',
  before: 'before',
  service: 'service',
};

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** `strace -c` on a process for as long as the returned function is not called; it resolves the table. */
function syscallCount(pid: number): () => Promise<string> {
  const strace = spawn('strace', ['-c', '-f', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  strace.stderr.on('data', (chunk) => {
    output += chunk;
  });
  return async () => {
    const exited = new Promise((resolve) => strace.once('exit', resolve));
    strace.kill('SIGINT');
    await exited;
    return output
      .split('\n')
      .filter((line) => /^\s*[\d.]+\s+[\d.]+\s+\d+\s+\d+/.test(line))
      .slice(0, 6)
      .join('\n');
  };
}

/** The medians of every target, their ratios, and the peak RSS of each process. */
function summary(
  results: Record<Target, number[]>,
  children: Partial<Record<Target, Child>>,
  loadBefore: number,
): string {
  const baseline = median(results.baseline);
  const hono = median(results.hono);
  const service = median(results.service);
  const times = (us: number, of = baseline) => (us / of).toFixed(2);
  const mb = (child: Child | undefined) =>
    child ? ((peakRssBytes(child.pid) ?? Number.NaN) / 2 ** 20).toFixed(1) : '';
  const beforeIs = [compareBin, beforeFlags && `flags: ${beforeFlags}`, beforeEnv && `env: ${beforeEnv}`];
  const rows = [
    `  Agent baseline ${baseline.toFixed(0)} µs`,
    withClient &&
      `  client baseline ${median(results.client).toFixed(0)} µs (${times(median(results.client))}x: node:http, the service's upstream client)`,
    `  Hono baseline  ${hono.toFixed(0)} µs (${times(hono)}x)`,
    hasBefore &&
      `  before         ${median(results.before).toFixed(0)} µs (${times(median(results.before))}x; ${beforeIs.filter(Boolean).join(', ')})`,
    `  service        ${service.toFixed(0)} µs (${times(service)}x; ${times(service, hono)}x the Hono baseline)`,
  ];
  const rss = [
    `service ${mb(children.service)} MB`,
    hasBefore && `before ${mb(children.before)} MB`,
    `Hono baseline ${mb(children.hono)} MB`,
    withClient && `client baseline ${mb(children.client)} MB`,
    `Agent baseline ${mb(children.baseline)} MB`,
  ];
  return (
    `CPU per /refresh at ${rate} req/s, median of ${rounds} rounds of ${seconds} s:\n` +
    `${rows.filter(Boolean).join('\n')}\n` +
    `peak RSS: ${rss.filter(Boolean).join(', ')}; ` +
    `load average ${loadBefore.toFixed(2)} -> ${(loadavg()[0] ?? Number.NaN).toFixed(2)}\n`
  );
}

/**
 * Gives every server started from here on gc-counter.ts, through the environment they inherit (the
 * service's bin replaces its own process, and keeps NODE_OPTIONS). Returns where the totals go.
 */
async function countCollections(workDir: string): Promise<string> {
  const preload = join(workDir, 'gc-counter.mjs');
  await build({
    entryPoints: [join(BENCH_DIR, 'gc-counter.ts')],
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: preload,
    logLevel: 'warning',
  });
  const directory = join(workDir, 'gc');
  mkdirSync(directory);
  process.env.NODE_OPTIONS =
    `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(preload).href}`.trim();
  process.env.BENCH_GC_DIR = directory;
  return directory;
}

/** Each target's collections over the whole run, warm-up included, per thousand refreshes. */
function gcSummary(
  directory: string,
  children: Partial<Record<Target, Child>>,
  requests: Record<Target, number>,
) {
  const rows = TARGETS.map((target) => {
    const child = children[target] as Child;
    let totals: GcTotals;
    try {
      totals = JSON.parse(readFileSync(join(directory, `gc-${child.pid}.json`), 'utf8')) as GcTotals;
    } catch {
      return `  ${LABELS[target]}: no count (the process did not exit through process.exit)`;
    }
    const per = 1_000 / requests[target];
    const each = (ms: number, n: number) => (n === 0 ? 0 : ms / n).toFixed(2);
    return (
      `  ${LABELS[target]}: ${totals.scavenges} scavenges, ${totals.scavengeMs.toFixed(0)} ms ` +
      `(${each(totals.scavengeMs, totals.scavenges)} ms each; ${(totals.scavengeMs * per).toFixed(1)} ms per 1,000 refreshes); ` +
      `${totals.markCompacts} mark-compacts, ${totals.markCompactMs.toFixed(0)} ms; ` +
      `${totals.other} other, ${totals.otherMs.toFixed(0)} ms; over ${requests[target]} refreshes`
    );
  });
  return `garbage collection over the run, warm-up included:\n${rows.join('\n')}\n`;
}

async function main(): Promise<void> {
  killChildrenOnExit();
  const workDir = mkdtempSync(join(tmpdir(), 'token-swap-cpu-'));
  process.once('exit', () => rmSync(workDir, { recursive: true, force: true }));
  const gcDir = countGc ? await countCollections(workDir) : undefined;
  const serviceEnv = JSON.parse(process.env.CPU_SERVICE_ENV ?? '{}') as Record<string, string>;
  const servers = await startServers(workDir, profileDir, 'stub', serviceEnv);
  const before = hasBefore
    ? await startService({
        workDir,
        accountsUrl: servers.sandbox.url,
        profileDir,
        env: { ...serviceEnv, ...(beforeEnv ? (JSON.parse(beforeEnv) as Record<string, string>) : {}) },
        ...(compareBin ? { bin: compareBin } : {}),
        ...(beforeFlags ? { nodeFlags: beforeFlags === 'none' ? [] : beforeFlags.split(/\s+/) } : {}),
        name: 'before',
      })
    : undefined;
  const bundledBaseline = (name: 'hono' | 'client') =>
    startBundledBaseline({ name, workDir, accountsUrl: servers.sandbox.url, profileDir });
  const children: Partial<Record<Target, Child>> = {
    baseline: servers.baseline,
    client: withClient ? await bundledBaseline('client') : undefined,
    hono: await bundledBaseline('hono'),
    service: servers.service,
    before,
  };
  const sealedThrough = async (child: Child) =>
    sealedRefreshTokens(
      child.url,
      await mintCodes(servers.sandbox.url, TOKENS, REDIRECT_URI),
      swapBody,
      CONNECTIONS,
    );
  const tokens: Partial<Record<Target, string[]>> = {
    baseline: await mintRefreshTokens(servers.sandbox.url, TOKENS),
    client: withClient ? await mintRefreshTokens(servers.sandbox.url, TOKENS) : undefined,
    hono: await mintRefreshTokens(servers.sandbox.url, TOKENS),
    // The service accepts only tokens it sealed: swap codes through it, as a client would.
    service: await sealedThrough(servers.service),
    before: before && (await sealedThrough(before)),
  };
  const served: Record<Target, number> = { baseline: 0, client: 0, hono: 0, service: 0, before: 0 };
  const run = async (target: Target, durationSeconds: number, fixedRate?: number) => {
    const child = children[target] as Child;
    const meter = cpuMeter({ target: child.pid });
    const timesBefore = cpuTimes(child.pid);
    const syscalls = process.env.CPU_STRACE === '1' && fixedRate ? syscallCount(child.pid) : undefined;
    const sample = await load({
      url: child.url,
      path: '/refresh',
      connections: CONNECTIONS,
      durationSeconds,
      ...(fixedRate === undefined ? {} : { rate: fixedRate }),
      bodies: slicedPerConnection(tokens[target] ?? [], CONNECTIONS, refreshBody),
    });
    const cpu = meter().target ?? Number.NaN;
    const timesAfter = cpuTimes(child.pid);
    if (syscalls) log(`${target} syscalls:\n${await syscalls()}`);
    if (sample.non2xx + sample.socketErrors > 0) {
      throw new Error(`${target} answered errors: ${JSON.stringify(sample.statusCodes)}`);
    }
    const requests = sample.latenciesMs.length;
    served[target] += requests;
    const perRefresh = (seconds: number | undefined) => ((seconds ?? Number.NaN) * 1e6) / requests;
    return {
      requests,
      us: (cpu * 1e6) / requests,
      userUs: perRefresh(timesAfter && timesBefore && timesAfter.user - timesBefore.user),
      systemUs: perRefresh(timesAfter && timesBefore && timesAfter.system - timesBefore.system),
    };
  };

  // Warm-up at full speed: the JIT compiles the hot paths before anything is counted.
  for (const target of TARGETS) {
    const { requests } = await run(target, warmupSeconds);
    log(`warm-up ${target}: ${requests} requests`);
  }
  const loadBefore = loadavg()[0] ?? Number.NaN;
  const results: Record<Target, number[]> = {
    baseline: [],
    client: [],
    hono: [],
    service: [],
    before: [],
  };
  const split: Record<Target, { user: number[]; system: number[] }> = {
    baseline: { user: [], system: [] },
    client: { user: [], system: [] },
    hono: { user: [], system: [] },
    service: { user: [], system: [] },
    before: { user: [], system: [] },
  };
  for (let round = 0; round < rounds; round++) {
    for (const target of round % 2 === 0 ? TARGETS : [...TARGETS].reverse()) {
      const { us, userUs, systemUs, requests } = await run(target, seconds, rate);
      results[target].push(us);
      split[target].user.push(userUs);
      split[target].system.push(systemUs);
      log(`${target}: ${us.toFixed(0)} µs per refresh (${requests} requests)`);
    }
  }
  process.stdout.write(summary(results, children, loadBefore));
  // In 10 ms ticks, as the kernel counts them: over a round, a few µs per refresh either way.
  const userSystem = TARGETS.map(
    (target) =>
      `${LABELS[target]} ${median(split[target].user).toFixed(0)} / ${median(split[target].system).toFixed(0)}`,
  );
  process.stdout.write(`user / system µs per refresh (medians): ${userSystem.join(', ')}\n`);
  await stopAll();
  if (gcDir) process.stdout.write(gcSummary(gcDir, children, served));
}

await main();
