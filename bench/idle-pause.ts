/**
 * What an idle pause costs the next burst: the service at a fixed rate for a round, a round more (the
 * warm cost), then a pause with no requests, then a round again, for the documented start command's
 * flags and for each flag set of IDLE_FLAGS beside it. V8's memory reducer runs when a process turns
 * idle, and its collection drops compiled code, which the next round compiles and optimizes again
 * (docs/benchmarks.md, "The memory reducer"). Per flag set it prints the CPU per refresh of the warm
 * round and of the round after the pause, how many functions V8 optimized in each (`--trace-opt`,
 * which each service runs with, so that every row pays for it alike), and the RSS at the end of the
 * pause.
 *
 *   npx tsx bench/idle-pause.ts
 *
 * Env: IDLE_RATE (req/s, default 600), IDLE_SECONDS (per round, default 10), IDLE_PAUSE (s, default
 * 30), IDLE_FLAGS (flag sets besides the documented one, `;` between sets, `none` for no flags;
 * default: the documented flags without `--no-memory-reducer`).
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { mintCodes, REDIRECT_URI, refreshBody, sealedRefreshTokens, swapBody } from './grants.js';
import { load, slicedPerConnection } from './load.js';
import { cpuSeconds, killChildrenOnExit, rssBytes, stopAll } from './processes.js';
import { count } from './samples.js';
import { productionNodeFlags, startServers, startService } from './servers.js';

const CONNECTIONS = 20;
const TOKENS = 2_000;
const REDUCER_OFF = '--no-memory-reducer';

const rate = count('IDLE_RATE', 600, 100_000);
const seconds = count('IDLE_SECONDS', 10, 600);
const pauseSeconds = count('IDLE_PAUSE', 30, 600);
const documented = productionNodeFlags();
const others = (process.env.IDLE_FLAGS?.trim() || documented.filter((flag) => flag !== REDUCER_OFF).join(' '))
  .split(';')
  .map((set) => set.trim())
  .filter(Boolean)
  .map((set) => (set === 'none' ? [] : set.split(/\s+/)));

/** Lines of `--trace-opt` that say a function was optimized: Node 20 says compiling, 22 optimizing. */
const OPTIMIZED = /^\[completed (?:optimizing|compiling) /;

const rssMb = (pid: number) => (rssBytes(pid) ?? Number.NaN) / 2 ** 20;

async function measure(
  workDir: string,
  accountsUrl: string,
  flags: string[],
  label: string,
): Promise<string> {
  const outFile = join(workDir, `${label.replace(/\W+/g, '_')}.out`);
  const out = openSync(outFile, 'w');
  const service = await startService({
    workDir,
    accountsUrl,
    nodeFlags: [...flags, '--trace-opt'],
    stdout: out,
    name: label,
  });
  closeSync(out);
  const optimized = () =>
    readFileSync(outFile, 'utf8')
      .split('\n')
      .filter((line) => OPTIMIZED.test(line)).length;
  const tokens = await sealedRefreshTokens(
    service.url,
    await mintCodes(accountsUrl, TOKENS, REDIRECT_URI),
    swapBody,
    CONNECTIONS,
  );
  const round = async () => {
    const cpuBefore = cpuSeconds(service.pid) ?? Number.NaN;
    const optimizedBefore = optimized();
    const sample = await load({
      url: service.url,
      path: '/refresh',
      connections: CONNECTIONS,
      durationSeconds: seconds,
      rate,
      bodies: slicedPerConnection(tokens, CONNECTIONS, refreshBody),
    });
    if (sample.non2xx + sample.socketErrors > 0) {
      throw new Error(`${label} answered errors: ${JSON.stringify(sample.statusCodes)}`);
    }
    const us = (((cpuSeconds(service.pid) ?? Number.NaN) - cpuBefore) * 1e6) / sample.latenciesMs.length;
    return { us, optimized: optimized() - optimizedBefore };
  };
  await round(); // warm-up: the first compilation of everything
  const warm = await round();
  const loadedRss = rssMb(service.pid);
  await sleep(pauseSeconds * 1000);
  const idleRss = rssMb(service.pid);
  const after = await round();
  return (
    `  ${label.padEnd(72)} warm ${warm.us.toFixed(0)} µs, after the pause ${after.us.toFixed(0)} µs (${(after.us / warm.us).toFixed(2)}x); ` +
    `functions optimized: warm ${warm.optimized}, after ${after.optimized}; RSS loaded ${loadedRss.toFixed(1)} MB, idle ${idleRss.toFixed(1)} MB`
  );
}

async function main(): Promise<void> {
  killChildrenOnExit();
  const workDir = mkdtempSync(join(tmpdir(), 'token-swap-idle-'));
  process.once('exit', () => rmSync(workDir, { recursive: true, force: true }));
  const servers = await startServers(workDir, undefined, 'stub');
  const loadBefore = loadavg()[0] ?? Number.NaN;
  const rows: string[] = [];
  for (const flags of [documented, ...others]) {
    const label = flags.length === 0 ? 'no flags' : flags.join(' ');
    rows.push(await measure(workDir, servers.sandbox.url, flags, label));
  }
  process.stdout.write(
    `CPU per /refresh at ${rate} req/s, rounds of ${seconds} s, around an idle pause of ${pauseSeconds} s (Node ${process.version}):\n` +
      `${rows.join('\n')}\n` +
      `load average ${loadBefore.toFixed(2)} -> ${(loadavg()[0] ?? Number.NaN).toFixed(2)}\n`,
  );
  await stopAll();
}

await main();
