/**
 * `npm run bench`: the token swap service against a bare pass-through baseline (over a keep-alive
 * `http.Agent`, and the same over `fetch`), all in front of the sandbox (no artificial delay), all on
 * 127.0.0.1. See docs/benchmarks.md.
 *
 * Env: BENCH_DURATION (s per target and endpoint, default 60), BENCH_CONNECTIONS (default 50),
 * BENCH_WARMUP (s, default 5), BENCH_ROUNDS (default: one per 10 s, at most 6), BENCH_REFRESH_TOKENS
 * (default 5000), BENCH_RATE (req/s per target; default: as fast as each answers), BENCH_PROFILE=1
 * (CPU profiles of the service and the baselines).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SEALED_PREFIX } from '../src/server/sealing/format.js';
import { compare, type Feeder } from './compare.js';
import {
  mintCodes,
  mintRefreshTokens,
  REDIRECT_URI,
  refreshBody,
  sealedRefreshTokens,
  swapBody,
} from './grants.js';
import { eachOnce, slicedPerConnection } from './load.js';
import { log } from './log.js';
import { killChildrenOnExit, peakRssBytes, stopAll } from './processes.js';
import { evaluate, type PeakRss, type Runs, ratios, render, type Target } from './report.js';
import { fairnessCounters, hasMetrics, type Servers, startServers } from './servers.js';
import { machine, readSettings, type Settings } from './settings.js';

const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

/**
 * Codes minted for a run, over what the best rate so far predicts: a warm-up starts cold, other load on
 * the machine comes and goes, and a run that runs dry is void. Spare codes cost the sandbox some MB and
 * a fraction of a second of minting.
 */
const CODE_MARGIN = 3;
/** Codes for a warm-up, per second: more than either target swaps on a small machine. */
const WARMUP_CODES_PER_SECOND = 5_000;

async function benchmark(settings: Settings, servers: Servers) {
  const accounts = servers.sandbox.url;
  const { connections } = settings;

  // Codes are single use: a fresh one per request, as many as the rate so far says are needed.
  const mintForSwaps: Feeder = async (seconds, rate) => {
    const count =
      rate === undefined
        ? seconds * WARMUP_CODES_PER_SECOND
        : Math.ceil(rate * seconds * CODE_MARGIN + connections * 20);
    return eachOnce(await mintCodes(accounts, count, REDIRECT_URI), swapBody);
  };
  const swap = await compare(settings, servers, '/swap', {
    baseline: mintForSwaps,
    fetch: mintForSwaps,
    service: mintForSwaps,
  });

  log(`minting ${settings.refreshTokens} refresh tokens for each target`);
  const refreshTokens: Record<Target, string[]> = {
    baseline: await mintRefreshTokens(accounts, settings.refreshTokens),
    fetch: await mintRefreshTokens(accounts, settings.refreshTokens),
    // The service accepts only tokens it sealed: swap codes through it, as a client would.
    service: await sealedRefreshTokens(
      servers.service.url,
      await mintCodes(accounts, settings.refreshTokens, REDIRECT_URI),
      swapBody,
      connections,
    ),
  };
  // Refresh tokens are reusable: the same supply serves every run.
  const reuse =
    (target: Target): Feeder =>
    async () =>
      slicedPerConnection(refreshTokens[target], connections, refreshBody);
  const refresh = await compare(settings, servers, '/refresh', {
    baseline: reuse('baseline'),
    fetch: reuse('fetch'),
    service: reuse('service'),
  });

  const runs: Runs = { swap: swap.runs, refresh: refresh.runs };
  return { runs, warmups: { swap: swap.warmups, refresh: refresh.warmups } };
}

async function main(): Promise<number> {
  const settings = readSettings();
  killChildrenOnExit();
  const loadBefore = loadavg();
  if ((loadBefore[0] ?? 0) > 1) {
    // Everything here shares the machine's cores: another busy process skews req/s and latency.
    log(
      `warning: load average ${loadBefore[0]?.toFixed(2)} before the start; req/s and latency will be noisy`,
    );
  }
  // The children's working directory: no `.env` there, so no stray configuration applies.
  const workDir = mkdtempSync(join(tmpdir(), 'token-swap-bench-'));
  // On every way out, signals included (they skip the `finally` below).
  process.once('exit', () => rmSync(workDir, { recursive: true, force: true }));
  try {
    const servers = await startServers(
      workDir,
      settings.profile ? join(RESULTS_DIR, 'profiles') : undefined,
      settings.upstream,
    );
    if (settings.rate !== undefined) {
      log(`fixed rate: ${settings.rate} req/s per target; throughput is set, not measured`);
    }
    for (const child of Object.values(servers)) {
      log(`${child.name} ${child.url} (pid ${child.pid})`);
    }
    // Sealing is judged by what a client gets back, not by what the service says about itself.
    const [probe] = await sealedRefreshTokens(
      servers.service.url,
      await mintCodes(servers.sandbox.url, 1, REDIRECT_URI),
      swapBody,
      1,
    );
    if (!probe?.startsWith(SEALED_PREFIX)) {
      throw new Error(
        'the service handed out an unsealed refresh token, so the benchmark would not measure sealing',
      );
    }
    const features = { sealing: true, logLevel: 'info', metrics: await hasMetrics(servers.service.url) };

    const { runs, warmups } = await benchmark(settings, servers);

    const counters = features.metrics ? await fairnessCounters(servers.service.url) : undefined;
    // Read before the processes stop: /proc forgets them when they exit.
    const rss: PeakRss = {
      service: peakRssBytes(servers.service.pid),
      baseline: peakRssBytes(servers.baseline.pid),
      fetch: peakRssBytes(servers.fetch.pid),
      sandbox: peakRssBytes(servers.sandbox.pid),
    };
    const checks = evaluate(runs, rss, settings.rate !== undefined);
    const pass = checks.every((check) => check.pass);

    process.stdout.write(`\n${render(runs, rss, checks)}\n\n`);
    if (counters) {
      process.stdout.write(`service counters (all should be 0): ${JSON.stringify(counters)}\n`);
    }
    process.stdout.write(`${pass ? 'PASS' : 'FAIL'}\n`);

    const results = {
      finishedAt: new Date().toISOString(),
      machine: { ...machine(), loadAverage: { before: loadBefore, after: loadavg() } },
      settings,
      service: { features, counters },
      peakRssBytes: rss,
      runs,
      warmups,
      ratios: { baseline: ratios(runs, 'baseline'), fetch: ratios(runs, 'fetch') },
      checks,
      pass,
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, 'latest.json');
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    log(`results written to ${file}`);
    return pass ? 0 : 1;
  } finally {
    await stopAll();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // The message names the server that failed and carries its stderr; a stack would bury it.
    process.stderr.write(`[bench] failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
