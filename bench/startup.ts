/**
 * Start-up and memory of the Node server as it is documented to start (docs/benchmarks.md,
 * "Start-up"). Run: `npx tsx bench/startup.ts` (after `npm run build`).
 *
 * 1. Time from spawn to the first 200 on GET /healthz, a fresh process per sample, interleaved:
 *    the documented command (`node` with `npm start`'s V8 flags, `bin/token-swap.js serve`: the
 *    Docker image's CMD and the systemd unit), the same without the flags, the same through npx,
 *    `npm start`, and the command on tsc's unbundled dist/cli/main.js (what bin/ ran before
 *    scripts/build-cli.mjs), and the documented command without NODE_EXTRA_CA_CERTS.
 * 2. RSS under a bounded load: the documented command in front of the sandbox, refreshes of distinct
 *    sealed tokens on STARTUP_CONNECTIONS connections for STARTUP_LOAD_SECONDS, then its peak and
 *    current RSS (VmHWM, VmRSS), the current one by kind of mapping (/proc/PID/smaps), and CPU per
 *    request; beside it, the same without the V8 flags, and
 *    with each flag set in STARTUP_RSS_FLAGS (`;` between sets, e.g. `--max-semi-space-size=2
 *    --max-old-space-size=1024`). STARTUP_TIMES=0 skips part 1.
 */
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintCodes, REDIRECT_URI, refreshBody, sealedRefreshTokens, swapBody } from './grants.js';
import { load, slicedPerConnection, summarize as summarizeLoad } from './load.js';
import {
  cpuSeconds,
  killChildrenOnExit,
  peakRssBytes,
  rssByMapping,
  startNode,
  stopAll,
} from './processes.js';
import { count, fmt, freePort, loadAverage, summarize, timeToHealthz, warmFetch } from './samples.js';
import { productionNodeFlags } from './servers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin/token-swap.js');
const SAMPLES = count('STARTUP_SAMPLES', 20, 500);
const LOAD_SECONDS = count('STARTUP_LOAD_SECONDS', 10, 120);
const CONNECTIONS = count('STARTUP_CONNECTIONS', 32, 256);
const APP = {
  SPOTIFY_CLIENT_ID: 'sandbox-client-id',
  SPOTIFY_CLIENT_SECRET: 'sandbox-client-secret-not-for-production',
  SPOTIFY_REDIRECT_URI: REDIRECT_URI,
  ENCRYPTION_SECRET: 'startup-benchmark-sealing-secret-0123456789',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  RATE_LIMIT_SWAP_PER_MINUTE: '0',
  RATE_LIMIT_REFRESH_PER_MINUTE: '0',
  REDIS_URL: '',
};
const UNBUNDLED = `import { runCli } from ${JSON.stringify(new URL('../dist/cli/main.js', import.meta.url).href)};
process.exit(await runCli(['serve']));`;

const FLAGS = productionNodeFlags();
/**
 * Node 20 reads and parses NODE_EXTRA_CA_CERTS before any script runs (about 90 ms of CPU for the
 * system's whole bundle here; Node 22 reads it when TLS first needs it). A machine that sets it for
 * every process counts that in every row: this row shows the start without it.
 */
const NO_EXTRA_CA = 'the documented command, NODE_EXTRA_CA_CERTS unset';
const COMMANDS: Record<string, [string, string[]]> = {
  [`node ${FLAGS.join(' ')} bin/token-swap.js serve`]: [process.execPath, [...FLAGS, BIN, 'serve']],
  'node bin/token-swap.js serve': [process.execPath, [BIN, 'serve']],
  // npm exec's own start-up, as `npx token-swap serve` pays it (npx then runs the same bin).
  'npx --no -- node bin/token-swap.js serve': ['npx', ['--no', '--', 'node', BIN, 'serve']],
  'npm start': ['npm', ['start', '--silent']],
  'unbundled dist/cli/main.js': [process.execPath, [...FLAGS, '--input-type=module', '-e', UNBUNDLED]],
  [NO_EXTRA_CA]: [process.execPath, [...FLAGS, BIN, 'serve']],
};
/** npm's own: they run in the repository (its package.json, its node_modules/.bin). */
const VIA_NPM = new Set(['npm', 'npx']);

function sampleEnv(name: string, command: string, port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...APP, PORT: String(port) };
  if (name === NO_EXTRA_CA) delete env.NODE_EXTRA_CA_CERTS;
  // Run inside npm (`npm run`, `npx -p node@22 ...`), this process inherits npm's settings, such as
  // npm_config_package, which would make the npx row look for that package instead of the bin:
  // npm and npx start here as from a shell.
  if (VIA_NPM.has(command)) {
    for (const key of Object.keys(env)) if (/^npm_/i.test(key)) delete env[key];
  }
  return env;
}

async function startTimes(cwd: string): Promise<void> {
  await warmFetch();
  const results: Record<string, { ms: number[]; cpuMs: number[] }> = {};
  for (const name of Object.keys(COMMANDS)) results[name] = { ms: [], cpuMs: [] };
  const before = loadAverage();
  for (let i = 0; i < SAMPLES; i += 1) {
    for (const [name, [command, args]] of Object.entries(COMMANDS)) {
      const port = await freePort();
      // The others run anywhere without a .env.
      const where = VIA_NPM.has(command) ? ROOT : cwd;
      const sample = await timeToHealthz(command, args, {
        env: sampleEnv(name, command, port),
        cwd: where,
        port,
      });
      results[name]?.ms.push(sample.ms);
      if (!VIA_NPM.has(command) && sample.cpuMs !== undefined) results[name]?.cpuMs.push(sample.cpuMs);
    }
  }
  console.log(`Start-up to the first /healthz, ${SAMPLES} fresh processes each, Node ${process.version}`);
  console.log(`load average ${before} -> ${loadAverage()}`);
  for (const [name, { ms, cpuMs }] of Object.entries(results)) {
    const cpu = cpuMs.length > 0 ? `; CPU ${fmt(summarize(cpuMs))}` : '';
    console.log(`  ${name.padEnd(72)} wall ${fmt(summarize(ms))}${cpu}`);
  }
}

async function rssUnderLoad(cwd: string, flags: string[]): Promise<void> {
  const sandbox = await startNode({
    name: 'sandbox',
    args: [BIN, 'sandbox', '--host', '127.0.0.1', '--port', '0'],
    env: { ...process.env, ...APP, LOG_LEVEL: 'warn' },
    cwd,
    stdout: 'ignore',
  });
  const service = await startNode({
    name: 'service',
    args: [...flags, BIN, 'serve', '--port', '0'],
    env: { ...process.env, ...APP, SPOTIFY_ACCOUNTS_URL: sandbox.url },
    cwd,
    // A log line per request, written somewhere real, as in production.
    stdout: openSync('/dev/null', 'w'),
  });
  try {
    const tokens = await sealedRefreshTokens(
      service.url,
      await mintCodes(sandbox.url, CONNECTIONS * 40, REDIRECT_URI),
      swapBody,
      CONNECTIONS,
    );
    const bodies = slicedPerConnection(tokens, CONNECTIONS, refreshBody);
    const before = loadAverage();
    const cpuBefore = cpuSeconds(service.pid) ?? 0;
    const run = summarizeLoad([
      await load({
        url: service.url,
        path: '/refresh',
        connections: CONNECTIONS,
        durationSeconds: LOAD_SECONDS,
        bodies,
      }),
    ]);
    const cpu = (cpuSeconds(service.pid) ?? 0) - cpuBefore;
    const status = (await import('node:fs')).readFileSync(`/proc/${service.pid}/status`, 'utf8');
    const rss = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]) / 1024;
    const peak = (peakRssBytes(service.pid) ?? 0) / 2 ** 20;
    const mapped = rssByMapping(service.pid);
    const label = flags.length === 0 ? 'no V8 flags' : flags.join(' ');
    const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    console.log(
      `  ${label.padEnd(72)} ${run.requestsPerSecond.toFixed(0)} req/s, ${run.errors} errors, ` +
        `${((cpu / run.requests) * 1e6).toFixed(0)} µs CPU/request, peak RSS ${peak.toFixed(1)} MB, ` +
        `RSS after ${rss.toFixed(1)} MB; load average ${before} -> ${loadAverage()}`,
    );
    if (mapped) {
      console.log(
        `  ${''.padEnd(72)} RSS after, by mapping: anonymous ${mb(mapped.anonymous)} MB, ` +
          `node's code ${mb(mapped.nodeCode)}, its read-only data ${mb(mapped.nodeReadOnlyData)}, ` +
          `malloc ${mb(mapped.malloc)}, other ${mb(mapped.other)}`,
      );
    }
  } finally {
    await stopAll();
  }
}

killChildrenOnExit();
const cwd = mkdtempSync(join(tmpdir(), 'startup-bench-'));
try {
  if (process.env.STARTUP_TIMES !== '0') await startTimes(cwd);
  console.log(`RSS under load: /refresh, ${CONNECTIONS} connections, ${LOAD_SECONDS} s, node ${BIN} serve`);
  await rssUnderLoad(cwd, FLAGS);
  await rssUnderLoad(cwd, []);
  for (const set of (process.env.STARTUP_RSS_FLAGS ?? '').split(';')) {
    const flags = set.trim().split(/\s+/).filter(Boolean);
    if (flags.length > 0) await rssUnderLoad(cwd, flags);
  }
} finally {
  rmSync(cwd, { recursive: true, force: true });
}
