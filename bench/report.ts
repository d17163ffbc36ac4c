/** Judges the measurements against the targets and renders them as a table. */
import type { LoadResult } from './load.js';

export const ENDPOINTS = ['swap', 'refresh'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];
/** `baseline`: the proxy over a keep-alive `http.Agent`, the reference; `fetch`: the same over `fetch`. */
export const TARGETS = ['baseline', 'fetch', 'service'] as const;
export type Target = (typeof TARGETS)[number];

/** The endpoint the throughput and latency targets are set for (/swap is reported beside it). */
export const CHECKED_ENDPOINT: Endpoint = 'refresh';

export const LIMITS = {
  /** Service req/s over the Agent baseline's req/s on /refresh, at least. */
  minThroughputRatio: 0.6,
  /** Service p99 over the Agent baseline's p99 on /refresh, at most. */
  maxP99Ratio: 1.5,
  /** Peak RSS of the service process, below (MB = 10^6 bytes). */
  maxServiceRssBytes: 120e6,
} as const;

export interface Run extends LoadResult {
  /**
   * CPU time (user + system) per request during the run, in µs: of the target, of the sandbox behind
   * it, and of this process (autocannon). Unlike req/s it barely depends on what else the machine runs.
   */
  cpuUsPerRequest: {
    target: number | undefined;
    sandbox: number | undefined;
    loadGenerator: number | undefined;
  };
}

export type Runs = Record<Endpoint, Record<Target, Run>>;

export interface PeakRss {
  service: number | undefined;
  baseline: number | undefined;
  fetch: number | undefined;
  sandbox: number | undefined;
}

export interface Ratios {
  throughput: number;
  p99: number;
  /** Service CPU µs per request over the other target's; undefined when a reading is missing. */
  cpu: number | undefined;
}

export interface Check {
  name: string;
  actual: string;
  limit: string;
  pass: boolean;
}

const mb = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : `${(bytes / 1e6).toFixed(1)} MB`);
const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The service against `against` (the Agent baseline, or the fetch one), per endpoint. */
export function ratios(
  runs: Runs,
  against: Exclude<Target, 'service'> = 'baseline',
): Record<Endpoint, Ratios> {
  const of = (endpoint: Endpoint): Ratios => {
    const { [against]: other, service } = runs[endpoint];
    const cpu = (run: Run) => run.cpuUsPerRequest.target;
    const [mine, theirs] = [cpu(service), cpu(other)];
    return {
      throughput: round(service.requestsPerSecond / other.requestsPerSecond),
      p99: round(service.latencyMs.p99 / other.latencyMs.p99),
      cpu: mine === undefined || theirs === undefined ? undefined : round(mine / theirs),
    };
  };
  return { swap: of('swap'), refresh: of('refresh') };
}

/**
 * The targets, on /refresh against the Agent baseline. At a fixed rate (`fixedRate`) every target
 * gets the same req/s, so throughput is not checked, only latency.
 */
export function evaluate(runs: Runs, rss: PeakRss, fixedRate = false): Check[] {
  const checks: Check[] = [];
  const { throughput, p99 } = ratios(runs)[CHECKED_ENDPOINT];
  if (!fixedRate) {
    checks.push({
      name: `${CHECKED_ENDPOINT}: service throughput / baseline`,
      actual: `${(throughput * 100).toFixed(1)}%`,
      limit: `>= ${LIMITS.minThroughputRatio * 100}%`,
      pass: throughput >= LIMITS.minThroughputRatio,
    });
  }
  checks.push({
    name: `${CHECKED_ENDPOINT}: service p99 / baseline p99`,
    actual: `${p99.toFixed(2)}x`,
    limit: `<= ${LIMITS.maxP99Ratio}x`,
    pass: p99 <= LIMITS.maxP99Ratio,
  });
  checks.push({
    name: 'service peak RSS',
    actual: mb(rss.service),
    limit: `< ${mb(LIMITS.maxServiceRssBytes)}`,
    pass: rss.service !== undefined && rss.service < LIMITS.maxServiceRssBytes,
  });
  for (const endpoint of ENDPOINTS) {
    for (const target of TARGETS) {
      const run = runs[endpoint][target];
      checks.push({
        name: `${endpoint}: ${target} errors`,
        actual: run.exhausted ? `${run.errors} (ran out of grants)` : String(run.errors),
        limit: '0',
        pass: run.errors === 0 && !run.exhausted,
      });
    }
  }
  return checks;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')).join('\n');
}

export function render(runs: Runs, rss: PeakRss, checks: readonly Check[]): string {
  const rows = [
    [
      'endpoint',
      'target',
      'req/s',
      'p50 ms',
      'p99 ms',
      'errors',
      'requests',
      'CPU µs/req: target',
      'sandbox',
      'autocannon',
    ],
  ];
  const problems: string[] = [];
  for (const endpoint of ENDPOINTS) {
    for (const target of TARGETS) {
      const run = runs[endpoint][target];
      rows.push([
        `/${endpoint}`,
        target,
        run.requestsPerSecond.toFixed(1),
        run.latencyMs.p50.toFixed(2),
        run.latencyMs.p99.toFixed(2),
        String(run.errors),
        String(run.requests),
        String(run.cpuUsPerRequest.target ?? 'n/a'),
        String(run.cpuUsPerRequest.sandbox ?? 'n/a'),
        String(run.cpuUsPerRequest.loadGenerator ?? 'n/a'),
      ]);
      if (run.errors > 0 || run.exhausted) {
        problems.push(
          `/${endpoint} ${target}: statuses ${JSON.stringify(run.statusCodes)}, ${run.socketErrors} socket errors ` +
            `(${run.timeouts} timeouts)${run.exhausted ? ', ran out of grants' : ''}`,
        );
      }
    }
  }
  const byEndpoint = { baseline: ratios(runs, 'baseline'), fetch: ratios(runs, 'fetch') };
  const ratioRows = [['service /', 'throughput', 'p99', 'CPU µs/req']];
  for (const endpoint of ENDPOINTS) {
    for (const against of ['baseline', 'fetch'] as const) {
      const { throughput, p99, cpu } = byEndpoint[against][endpoint];
      ratioRows.push([
        `/${endpoint} ${against}`,
        `${(throughput * 100).toFixed(1)}%`,
        `${p99.toFixed(2)}x`,
        cpu === undefined ? 'n/a' : `${cpu.toFixed(2)}x`,
      ]);
    }
  }
  const checkRows = checks.map((check) => [
    check.pass ? 'PASS' : 'FAIL',
    check.name,
    check.actual,
    check.limit,
  ]);
  return [
    table(rows),
    ...problems,
    '',
    table(ratioRows),
    '',
    `peak RSS: service ${mb(rss.service)}, baseline ${mb(rss.baseline)}, fetch ${mb(rss.fetch)}, sandbox ${mb(rss.sandbox)}`,
    '',
    table(checkRows),
  ].join('\n');
}
