/** Judges the measurements against the targets and renders them as a table. */
import type { LoadResult } from './load.js';

export const ENDPOINTS = ['swap', 'refresh'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];
export const TARGETS = ['baseline', 'service'] as const;
export type Target = (typeof TARGETS)[number];

export const LIMITS = {
  /** Service req/s over baseline req/s, at least. */
  minThroughputRatio: 0.85,
  /** Service p99 over baseline p99, at most. */
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
  sandbox: number | undefined;
}

export interface Ratios {
  throughput: number;
  p99: number;
}

export interface Check {
  name: string;
  actual: string;
  limit: string;
  pass: boolean;
}

const mb = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : `${(bytes / 1e6).toFixed(1)} MB`);
const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

export function ratios(runs: Runs): Record<Endpoint, Ratios> {
  const of = (endpoint: Endpoint): Ratios => {
    const { baseline, service } = runs[endpoint];
    return {
      throughput: round(service.requestsPerSecond / baseline.requestsPerSecond),
      p99: round(service.latencyMs.p99 / baseline.latencyMs.p99),
    };
  };
  return { swap: of('swap'), refresh: of('refresh') };
}

export function evaluate(runs: Runs, rss: PeakRss): Check[] {
  const checks: Check[] = [];
  const byEndpoint = ratios(runs);
  for (const endpoint of ENDPOINTS) {
    const { throughput, p99 } = byEndpoint[endpoint];
    checks.push(
      {
        name: `${endpoint}: service throughput / baseline`,
        actual: `${(throughput * 100).toFixed(1)}%`,
        limit: `>= ${LIMITS.minThroughputRatio * 100}%`,
        pass: throughput >= LIMITS.minThroughputRatio,
      },
      {
        name: `${endpoint}: service p99 / baseline p99`,
        actual: `${p99.toFixed(2)}x`,
        limit: `<= ${LIMITS.maxP99Ratio}x`,
        pass: p99 <= LIMITS.maxP99Ratio,
      },
    );
  }
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
  const byEndpoint = ratios(runs);
  const ratioRows = [['service / baseline', 'throughput', 'p99']];
  for (const endpoint of ENDPOINTS) {
    const { throughput, p99 } = byEndpoint[endpoint];
    ratioRows.push([`/${endpoint}`, `${(throughput * 100).toFixed(1)}%`, `${p99.toFixed(2)}x`]);
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
    `peak RSS: service ${mb(rss.service)}, baseline ${mb(rss.baseline)}, sandbox ${mb(rss.sandbox)}`,
    '',
    table(checkRows),
  ].join('\n');
}
