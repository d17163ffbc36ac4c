/**
 * The two quick loops for work on the request path run from end to end: the smoke runs of
 * docs/benchmarks.md ("Where a refresh's CPU goes"), run as written. Their numbers are not checked (no
 * timed assertions): only that each target answered every request and has a number.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { productionNodeFlags } from '../bench/servers.js';
import { runSmokeBlock } from './helpers/bench-smoke.js';

const PROFILES = fileURLToPath(new URL('../bench/results/profiles', import.meta.url));

function run(prefix: string) {
  const result = runSmokeBlock('docs/benchmarks.md', prefix, 170_000);
  expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

describe('the CPU-per-refresh benchmarks', () => {
  // Five servers, their warm-up and a round each, on a shared two-core machine (dist/ is built).
  // With the fourth baseline (CPU_CLIENT_BASELINE=1) and a feature off in `before` (CPU_BEFORE_ENV).
  it('bench/cpu-per-refresh.ts measures the Agent, client and Hono baselines, the service, and the service with a feature off', {
    timeout: 180_000,
  }, () => {
    const output = run('CPU_SECONDS=1 ');
    for (const row of ['Agent baseline', 'client baseline', 'Hono baseline', 'service']) {
      expect(output).toMatch(new RegExp(`^ +${row} +\\d+ µs`, 'm'));
    }
    expect(output).toMatch(/^ +before +\d+ µs \(\d+\.\d+x; env: \{"LOG_LEVEL":"silent"\}\)/m);
    expect(output).toMatch(/^peak RSS: service \d+\.\d MB/m);
    // Every target's CPU in user and system time, and with CPU_GC=1 its collections: a count for each
    // of the five, so the preload reached the service through its bin's process replacement too.
    expect(output).toMatch(
      /^user \/ system µs per refresh \(medians\): Agent baseline \d+ \/ \d+, client baseline \d+ \/ \d+, Hono baseline \d+ \/ \d+, before \d+ \/ \d+, service \d+ \/ \d+$/m,
    );
    for (const row of ['Agent baseline', 'client baseline', 'Hono baseline', 'before', 'service']) {
      expect(output).toMatch(
        new RegExp(`^  ${row}: [1-9]\\d* scavenges, \\d+ ms .* over [1-9]\\d* refreshes$`, 'm'),
      );
    }
  });

  // The heap-flag knobs of both scripts (docs/benchmarks.md, "The start command's heap flags").
  it('bench/cpu-per-refresh.ts measures this build under other Node flags and profiles every server; bench/startup.ts more flag sets', {
    timeout: 180_000,
  }, () => {
    const started = Date.now();
    const output = run('CPU_BEFORE_FLAGS=none CPU_SECONDS=2 ');
    // CPU_PROFILE=1: a profile of every server that was measured or could be (the Agent and fetch
    // baselines, the Hono baseline, before, the service), each written at its exit.
    const profiles = readdirSync(PROFILES)
      .filter((name) => name.endsWith('.cpuprofile'))
      .filter((name) => statSync(join(PROFILES, name)).mtimeMs >= started);
    expect(profiles.length, profiles.join('\n')).toBeGreaterThanOrEqual(5);
    expect(output).toMatch(/^ +before +\d+ µs \(\d+\.\d+x; flags: none\)/m);
    expect(output).toMatch(/^peak RSS: service \d+\.\d MB, before \d+\.\d MB/m);
    // Only the memory part, under each flag set: the documented flags, none, and the extra set.
    expect(output).not.toMatch(/healthz/i);
    for (const label of [productionNodeFlags().join(' '), 'no V8 flags', '--max-semi-space-size=2']) {
      expect(output).toContain(`  ${label.padEnd(72)} `);
    }
    expect(output).toMatch(
      /--max-semi-space-size=2 +\d+ req\/s, 0 errors, \d+ µs CPU\/request, peak RSS \d+\.\d MB/,
    );
    // The memory by kind of mapping, after each of the three loads.
    const mapped = output.match(
      /RSS after, by mapping: anonymous \d+\.\d MB, node's code \d+\.\d, its read-only data \d+\.\d, malloc \d+\.\d, other \d+\.\d$/gm,
    );
    expect(mapped, output).toHaveLength(3);
  });

  // docs/benchmarks.md, "The memory reducer": the start command's flags and another set around a pause.
  it('bench/idle-pause.ts measures the start command and another flag set before and after an idle pause', {
    timeout: 180_000,
  }, () => {
    const output = run('IDLE_SECONDS=1 ');
    const row = (label: string) =>
      new RegExp(
        // The labels are flags: letters, digits, '-' and '=', none special in a pattern.
        `^  ${label} +warm \\d+ µs, after the pause \\d+ µs \\(\\d+\\.\\d+x\\); functions optimized: warm \\d+, after \\d+; RSS loaded \\d+\\.\\d MB, idle \\d+\\.\\d MB$`,
        'm',
      );
    expect(output).toMatch(row(productionNodeFlags().join(' ')));
    expect(output).toMatch(row('no flags'));
  });

  // docs/benchmarks.md, "What a refresh holds while it waits": both servers, a snapshot of each.
  it('bench/in-flight.ts measures what a refresh in flight holds in the service and in the Hono baseline', {
    timeout: 300_000,
  }, () => {
    const result = runSmokeBlock('docs/benchmarks.md', 'IF_REQUESTS=2 ', 290_000);
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    for (const server of ['service', 'Hono baseline']) {
      expect(result.stdout).toMatch(
        new RegExp(
          `^${server}: -?\\d+\\.\\d+ KB per refresh in flight by the heap snapshots \\(heapUsed -?\\d+\\.\\d+ KB\\), 2 at once$`,
          'm',
        ),
      );
    }
    // IF_TOP=3: three kinds of object under each.
    expect(result.stdout.match(/^ +-?\d+\.\d+ KB {2}\S/gm)).toHaveLength(6);
  });

  // docs/benchmarks.md, "Deno and Bun": each runtime's documented entry, started and loaded.
  it('bench/runtimes.ts starts and loads the service on Node, Deno and Bun', { timeout: 180_000 }, () => {
    const output = run('RUNTIMES_SAMPLES=1 ');
    for (const runtime of ['node', 'deno', 'bun']) {
      expect(output).toMatch(
        new RegExp(
          `^  ${runtime} +\\S.*: start \\d+\\.\\d ms min, \\d+\\.\\d ms median .* \\d+ µs CPU/refresh, 0 errors; peak RSS \\d+\\.\\d MB$`,
          'm',
        ),
      );
    }
  });

  it('bench/in-process.ts measures the app alone and where its allocations come from', {
    timeout: 180_000,
  }, () => {
    const output = run('IP_REQUESTS=500 ');
    expect(output).toMatch(/^in process: \d+\.\d µs CPU per refresh/m);
    expect(output).toMatch(/the app alone \(min - min\) -?\d+\.\d µs/);
    expect(output).toMatch(/^allocated per refresh: \d+\.\d KB/m);
    expect(output).toMatch(/KB {2}src\/server\//);
  });

  // docs/benchmarks.md, "Instructions per refresh": the three targets under callgrind, counted. Without
  // Valgrind it is skipped, except in CI, where .ci/run installs it.
  it.skipIf(!existsSync('/usr/bin/valgrind') && !process.env.CI)(
    'bench/instructions.ts counts the instructions of the Agent baseline, the Hono baseline and the service, by kind of code',
    { timeout: 300_000 },
    () => {
      const result = runSmokeBlock('docs/benchmarks.md', 'IR_REQUESTS=50 ', 290_000);
      expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
      for (const row of ['Agent baseline', 'Hono baseline', 'service']) {
        expect(result.stdout).toMatch(new RegExp(`^  ${row} +[1-9]\\d*\\.\\d \\(`, 'm'));
      }
      // Every instruction falls in a kind; JIT code is counted for every target.
      expect(result.stdout).toMatch(
        /^ {2}JavaScript compiled at run time \(JIT code\) +[1-9]\d*\.\d +[1-9]\d*\.\d +[1-9]\d*\.\d$/m,
      );
      // The sums over every kind, with and without the compilers.
      for (const row of ['all of them', 'all but the compilers']) {
        expect(result.stdout).toMatch(
          new RegExp(`^  ${row} +[1-9]\\d*\\.\\d +[1-9]\\d*\\.\\d +[1-9]\\d*\\.\\d$`, 'm'),
        );
      }
      // V8's perf map named some of every target's compiled JavaScript.
      expect(result.stdout).toMatch(
        /^JIT code named by V8's perf map: Agent baseline [1-9]\d*%, Hono baseline [1-9]\d*%, service [1-9]\d*%$/m,
      );
      // IR_TOP=3: three functions, with the service's, the Hono baseline's and the difference.
      const listed = result.stdout
        .split('\n')
        .filter((line) => /^ +-?\d+\.\d +-?\d+\.\d +-?\d+\.\d {2}\S/.test(line));
      expect(listed).toHaveLength(3);
    },
  );
});
