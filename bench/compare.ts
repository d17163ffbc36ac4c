/**
 * One endpoint, every target: warm-ups, then alternating rounds of load, merged into one result per
 * target with the CPU time each process spent on it.
 */
import { type BodySource, type LoadResult, load, type Sample, summarize } from './load.js';
import { log } from './log.js';
import { type Child, cpuMeter } from './processes.js';
import { type Run, TARGETS, type Target } from './report.js';
import type { Servers } from './servers.js';
import type { Settings } from './settings.js';

/** How many times a round that ran out of codes is run again. */
const MAX_RETRIES = 2;
/** Successful requests per second of a finished run, to size the next supply of codes. */
const okRate = (run: Pick<Sample, 'statusCodes' | 'durationSeconds'>) =>
  (run.statusCodes['200'] ?? 0) / Math.max(run.durationSeconds, 0.001);

/**
 * Makes the bodies for one load run of `seconds`. `rate`: the best rate the target reached so far,
 * in successful requests per second; undefined before its warm-up.
 */
export type Feeder = (seconds: number, rate: number | undefined) => Promise<BodySource>;

type CpuSpent = Record<'target' | 'sandbox' | 'loadGenerator', number | undefined>;

/** Total CPU seconds over µs per request; undefined when a reading is missing. */
function cpuPerRequest(
  spent: readonly CpuSpent[],
  key: keyof CpuSpent,
  requests: number,
): number | undefined {
  let seconds = 0;
  for (const reading of spent) {
    const value = reading[key];
    if (value === undefined) {
      return undefined;
    }
    seconds += value;
  }
  return requests === 0 ? undefined : Math.round((seconds * 1e6) / requests);
}

/**
 * Measures every target on one endpoint: a warm-up each, then alternating rounds in ABC CBA order
 * (baseline, fetch, service, service, fetch, baseline, ...), so that a change in what else the machine
 * runs, or the sandbox's growing state, weighs on all alike. Each run counts the CPU time the target,
 * the sandbox and autocannon spend on it.
 */
export async function compare(
  settings: Settings,
  servers: Servers,
  path: string,
  feeders: Record<Target, Feeder>,
): Promise<{ runs: Record<Target, Run>; warmups: Record<Target, LoadResult> }> {
  const { connections, warmupSeconds, rounds } = settings;
  const roundSeconds = Math.ceil(settings.durationSeconds / rounds);
  const targets: Record<Target, Child> = {
    baseline: servers.baseline,
    fetch: servers.fetch,
    service: servers.service,
  };

  const bestRate: Record<Target, number | undefined> = {
    baseline: undefined,
    fetch: undefined,
    service: undefined,
  };
  async function run(target: Target, seconds: number) {
    const bodies = await feeders[target](seconds, bestRate[target]);
    // The load generator is this very process.
    const cpu = cpuMeter({
      target: targets[target].pid,
      sandbox: servers.sandbox.pid,
      loadGenerator: process.pid,
    });
    const sample = await load({
      url: targets[target].url,
      path,
      connections,
      durationSeconds: seconds,
      rate: settings.rate,
      bodies,
    });
    bestRate[target] = Math.max(bestRate[target] ?? 0, okRate(sample));
    return { sample, cpu: cpu() };
  }

  const warmups = {} as Record<Target, LoadResult>;
  for (const target of TARGETS) {
    log(`${target} ${path}: warm-up ${warmupSeconds} s`);
    warmups[target] = summarize([(await run(target, warmupSeconds)).sample]);
  }

  const samples: Record<Target, Sample[]> = { baseline: [], fetch: [], service: [] };
  const spent: Record<Target, CpuSpent[]> = { baseline: [], fetch: [], service: [] };
  for (let round = 0; round < rounds; round++) {
    for (const target of round % 2 === 0 ? TARGETS : [...TARGETS].reverse()) {
      const pace = settings.rate === undefined ? '' : `, ${settings.rate} req/s`;
      log(
        `${target} ${path}: round ${round + 1}/${rounds}, ${roundSeconds} s at ${connections} connections${pace}`,
      );
      let measured = await run(target, roundSeconds);
      // A round that ran out of codes is void. It still measured how fast the target went, so the next
      // supply is big enough; a second shortfall would mean something else is wrong, and is reported.
      for (let retry = 0; measured.sample.exhausted && retry < MAX_RETRIES; retry++) {
        log(`${target} ${path}: round ${round + 1} ran out of codes; running it again with more`);
        measured = await run(target, roundSeconds);
      }
      samples[target].push(measured.sample);
      spent[target].push(measured.cpu);
    }
  }

  const runs = {} as Record<Target, Run>;
  for (const target of TARGETS) {
    const result = summarize(samples[target]);
    const cpu = (key: keyof CpuSpent) => cpuPerRequest(spent[target], key, result.requests);
    runs[target] = {
      ...result,
      cpuUsPerRequest: {
        target: cpu('target'),
        sandbox: cpu('sandbox'),
        loadGenerator: cpu('loadGenerator'),
      },
    };
    log(
      `${target} ${path}: ${result.requestsPerSecond} req/s, p50 ${result.latencyMs.p50} ms, ` +
        `p99 ${result.latencyMs.p99} ms, ${result.errors} errors, ${cpu('target')} µs CPU/request`,
    );
  }
  return { runs, warmups };
}
