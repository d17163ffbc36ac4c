/**
 * The three servers of a benchmark run, each a child process on 127.0.0.1: the sandbox (the upstream),
 * the service as it runs in production, and the bare baseline.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';
import { type Child, type StartOptions, startNode } from './processes.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const BIN = join(BENCH_DIR, '..', 'bin', 'token-swap.js');

// The sandbox's defaults, set explicitly so that a SPOTIFY_* in the caller's environment changes nothing.
export const CLIENT_ID = 'sandbox-client-id';
export const CLIENT_SECRET = 'sandbox-client-secret-not-for-production';
const REGISTERED_REDIRECT_URI = 'http://127.0.0.1/callback';

/**
 * The Node flags the service runs with in production: those of `npm start` (the Docker image's CMD
 * and the systemd unit in docs/deploy/node.md use the same; test/production-launch.test.ts holds the
 * three together).
 */
export function productionNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(BENCH_DIR, '..', 'package.json'), 'utf8'));
  const flags = /^node((?: --[\w-]+(?:=\S+)?)*) bin\/token-swap\.js serve$/.exec(
    pkg.scripts?.start ?? '',
  )?.[1];
  if (flags === undefined) {
    throw new Error('package.json: the start script is not `node [--flags] bin/token-swap.js serve`');
  }
  return flags.split(' ').filter(Boolean);
}

/** The baseline (and the stub upstream) run under plain `node`: no TypeScript loader in a measured process. */
function transpile(workDir: string, name: 'baseline' | 'stub-accounts'): string {
  const file = join(workDir, `${name}.mjs`);
  // Both baselines of a run share the one script.
  if (existsSync(file)) return file;
  const source = readFileSync(join(BENCH_DIR, `${name}.ts`), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  writeFileSync(file, outputText);
  return file;
}

/** What runs `node` and how long it may take to listen, as given (processes.ts, `StartOptions`). */
type Launcher = Pick<StartOptions, 'command' | 'timeoutMs'>;

function launcher(options: Launcher): Launcher {
  return {
    ...(options.command ? { command: options.command } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  };
}

/** The upstream: the sandbox (the default, a faithful Accounts), or `stub` (bench/stub-accounts.ts). */
export function startUpstream(workDir: string, upstream: 'sandbox' | 'stub'): Promise<Child> {
  const common = { cwd: workDir, stdout: 'ignore' as const };
  if (upstream === 'stub') {
    return startNode({
      ...common,
      name: 'sandbox',
      args: [transpile(workDir, 'stub-accounts')],
      env: process.env,
    });
  }
  return startNode({
    ...common,
    name: 'sandbox',
    args: [BIN, 'sandbox', '--host', '127.0.0.1', '--port', '0'],
    env: {
      ...process.env,
      SPOTIFY_CLIENT_ID: CLIENT_ID,
      SPOTIFY_CLIENT_SECRET: CLIENT_SECRET,
      SPOTIFY_REDIRECT_URI: REGISTERED_REDIRECT_URI,
      LOG_LEVEL: 'warn',
    },
  });
}

export interface Servers {
  sandbox: Child;
  service: Child;
  /** The bare proxy over a keep-alive `http.Agent`: what the targets are defined against. */
  baseline: Child;
  /** The same proxy over the global `fetch`, the second column. */
  fetch: Child;
}

/**
 * The service as in production, in front of `accountsUrl`: `bin` is this checkout's
 * `bin/token-swap.js` unless another is given (another build, for a before and after).
 */
export function startService(
  options: {
    workDir: string;
    accountsUrl: string;
    profileDir?: string | undefined;
    env?: Record<string, string>;
    bin?: string;
    name?: string;
    /** Node's flags, instead of the start script's (what a flag costs, in the same rounds). */
    nodeFlags?: string[];
    /** Where stdout goes (a descriptor the caller opened and closes); default: /dev/null. */
    stdout?: number;
  } & Launcher,
): Promise<Child> {
  const profiling =
    options.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`];
  // Logs are written, as in production, to a sink that costs a write(2) per line and nothing more.
  const stdout = options.stdout ?? openSync('/dev/null', 'w');
  const started = startNode({
    cwd: options.workDir,
    name: options.name ?? 'service',
    args: [
      ...(options.nodeFlags ?? productionNodeFlags()),
      ...profiling,
      options.bin ?? BIN,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
    ],
    env: {
      ...process.env,
      SPOTIFY_CLIENT_ID: CLIENT_ID,
      SPOTIFY_CLIENT_SECRET: CLIENT_SECRET,
      SPOTIFY_REDIRECT_URI: REGISTERED_REDIRECT_URI,
      SPOTIFY_ACCOUNTS_URL: options.accountsUrl,
      // Every feature on as in production: sealing, a log line per request, metrics (on by default).
      ENCRYPTION_SECRET: randomBytes(48).toString('base64'),
      LOG_LEVEL: 'info',
      // All load comes from one address, which a per-address limit exists to stop.
      RATE_LIMIT_SWAP_PER_MINUTE: '0',
      RATE_LIMIT_REFRESH_PER_MINUTE: '0',
      // In-process coalescing and rate limits only: no Redis round trip the baseline does not make.
      REDIS_URL: '',
      ...options.env,
    },
    stdout,
    ...launcher(options),
  });
  // The child holds its own copy of the descriptor.
  if (options.stdout === undefined) closeSync(stdout);
  return started;
}

/**
 * The bare proxy (bench/baseline.ts) in front of `accountsUrl`, over a keep-alive `http.Agent`
 * (`node-http`) or the global `fetch`.
 */
export function startBaseline(
  options: {
    workDir: string;
    accountsUrl: string;
    client: 'node-http' | 'fetch';
    name: string;
    profileDir?: string | undefined;
  } & Launcher,
): Promise<Child> {
  const profiling =
    options.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`];
  return startNode({
    cwd: options.workDir,
    stdout: 'ignore',
    name: options.name,
    // V8's defaults but for the memory reducer, which the service's start command turns off too:
    // otherwise each round after an idle pause would charge the baseline for compiling its code again
    // (docs/benchmarks.md, "The memory reducer"), and the ratios would flatter the service.
    args: ['--no-memory-reducer', ...profiling, transpile(options.workDir, 'baseline')],
    env: {
      ...process.env,
      ACCOUNTS_URL: options.accountsUrl,
      CLIENT_ID,
      CLIENT_SECRET,
      BASELINE_CLIENT: options.client,
    },
    ...launcher(options),
  });
}

/**
 * A baseline that imports the service's code (bench/hono-baseline.ts: Hono on @hono/node-server
 * with the service's upstream client; bench/client-baseline.ts: the Agent baseline's server with
 * that client), bundled, so that it runs under plain `node` like the Agent baseline, with the start
 * command's flags.
 */
export async function startBundledBaseline(
  options: {
    name: 'hono' | 'client';
    workDir: string;
    accountsUrl: string;
    profileDir?: string | undefined;
  } & Launcher,
): Promise<Child> {
  const outfile = join(options.workDir, `${options.name}-baseline.mjs`);
  await build({
    entryPoints: [join(BENCH_DIR, `${options.name}-baseline.ts`)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'warning',
  });
  const profiling =
    options.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`];
  return startNode({
    name: options.name,
    args: [...productionNodeFlags(), ...profiling, outfile],
    cwd: options.workDir,
    stdout: 'ignore',
    env: { ...process.env, ACCOUNTS_URL: options.accountsUrl, CLIENT_ID, CLIENT_SECRET },
    ...launcher(options),
  });
}

/**
 * Starts the sandbox, then the service and both baselines pointed at it. `profileDir`: write CPU
 * profiles of the service and the baselines there when they exit (open them in Chrome DevTools or
 * speedscope).
 */
export async function startServers(
  workDir: string,
  profileDir: string | undefined,
  upstream: 'sandbox' | 'stub' = 'sandbox',
  serviceEnv: Record<string, string> = {},
): Promise<Servers> {
  const sandbox = await startUpstream(workDir, upstream);
  const accountsUrl = sandbox.url;
  const [service, agentBaseline, fetchBaseline] = await Promise.all([
    startService({ workDir, accountsUrl, profileDir, env: serviceEnv }),
    startBaseline({ workDir, accountsUrl, profileDir, client: 'node-http', name: 'baseline' }),
    startBaseline({ workDir, accountsUrl, profileDir, client: 'fetch', name: 'fetch' }),
  ]);
  return { sandbox, service, baseline: agentBaseline, fetch: fetchBaseline };
}

/** Whether the service serves GET /metrics; the benchmark does not depend on it. */
export async function hasMetrics(serviceUrl: string): Promise<boolean> {
  const response = await fetch(`${serviceUrl}/metrics`);
  await response.body?.cancel();
  return response.status === 200;
}

/**
 * Counters that must stay at zero for the comparison to be fair (no coalesced refresh, no retry, no
 * refusal), when the service exposes them.
 */
export async function fairnessCounters(serviceUrl: string): Promise<Record<string, number> | undefined> {
  const response = await fetch(`${serviceUrl}/metrics`);
  if (response.status !== 200) {
    await response.body?.cancel();
    return undefined;
  }
  const names = [
    'token_swap_refresh_coalesced_total',
    'token_swap_upstream_retries_total',
    'token_swap_rate_limited_total',
    'token_swap_capacity_rejected_total',
  ];
  const counters: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0]));
  for (const line of (await response.text()).split('\n')) {
    const match = /^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (match?.[1] !== undefined && match[1] in counters) {
      counters[match[1]] = (counters[match[1]] ?? 0) + Number(match[2]);
    }
  }
  return counters;
}
