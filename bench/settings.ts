/** What a benchmark run does (from the environment) and what it runs on (the machine). */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

export interface Settings {
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  /** The measured time of each target is split into this many alternating rounds. */
  rounds: number;
  refreshTokens: number;
  profile: boolean;
  /**
   * Requests per second per target, all connections together; undefined: as fast as each target
   * answers. At a fixed rate below saturation, CPU µs per request is each process's own cost, not
   * inflated by queueing and by the load generator competing for the same cores.
   */
  rate: number | undefined;
  /**
   * What plays Spotify Accounts: `sandbox` (the faithful fake, the default) or `stub`
   * (bench/stub-accounts.ts: an answer at once, so that the upstream bounds no target's throughput).
   */
  upstream: 'sandbox' | 'stub';
}

function integerFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function upstreamFromEnv(): 'sandbox' | 'stub' {
  const raw = process.env.BENCH_UPSTREAM ?? '';
  if (raw === '' || raw === 'sandbox') return 'sandbox';
  if (raw === 'stub') return 'stub';
  throw new Error('BENCH_UPSTREAM must be sandbox or stub');
}

export function readSettings(): Settings {
  // Bounded, so that a typo cannot turn into an hour of load.
  const connections = integerFromEnv('BENCH_CONNECTIONS', 50, 1, 1_000);
  const durationSeconds = integerFromEnv('BENCH_DURATION', 60, 1, 600);
  // Rounds of about 10 s: long enough for a steady state, short enough to alternate often.
  const rounds = Math.min(6, Math.max(1, Math.floor(durationSeconds / 10)));
  return {
    durationSeconds,
    warmupSeconds: integerFromEnv('BENCH_WARMUP', 5, 1, 60),
    connections,
    rounds: integerFromEnv('BENCH_ROUNDS', rounds, 1, durationSeconds),
    // At most 40 000: the sandbox keeps 100 000 refresh tokens (src/sandbox/store.ts), and both targets'
    // tokens, and those the service's swaps mint, must fit.
    refreshTokens: integerFromEnv('BENCH_REFRESH_TOKENS', 5_000, connections, 40_000),
    profile: process.env.BENCH_PROFILE === '1',
    rate: process.env.BENCH_RATE ? integerFromEnv('BENCH_RATE', 0, 1, 100_000) : undefined,
    upstream: upstreamFromEnv(),
  };
}

/** The machine, as the results need to describe it. */
export function machine() {
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
  return {
    cpuModel: cpuModel ?? cpus()[0]?.model,
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}
