/**
 * The benchmark works from end to end: the smoke run of docs/benchmarks.md, run as written in a copy of
 * the working tree (its `npm run build` must not rewrite the dist/ that other tests are running). A
 * second of load on five connections says nothing about the targets, so PASS and FAIL both do; what
 * must hold is what makes a real run mean something: every server started, the service sealed the
 * refresh tokens it handed out, the load got no errors, and the results were written; once in front of the
 * sandbox and once in front of the stub upstream (BENCH_UPSTREAM=stub).
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { emptyDir } from './helpers/cli.js';
import { shellBlocks } from './helpers/doc-blocks.js';
import { personEnvironment } from './helpers/shell-session.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SMOKE = 'BENCH_DURATION=1 ';

/** The tracked and new files of the working tree, with the shared node_modules linked in. */
function copyOfTheTree(): string {
  const dir = emptyDir();
  const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).stdout;
  for (const file of files.split('\0').filter((f) => f && existsSync(join(ROOT, f)))) {
    if (!statSync(join(ROOT, file)).isFile()) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(dir, file));
  }
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(dir, 'node_modules'));
  return dir;
}

interface Results {
  settings: { durationSeconds: number; connections: number };
  service: { features: { sealing: boolean }; counters: Record<string, number> };
  runs: Record<string, Record<string, unknown>>;
  checks: { name: string; pass: boolean }[];
  pass: boolean;
}

let copy: string | undefined;
afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe('npm run bench', () => {
  // Per run: the build (about 20 s) and the load (about 15 s) on a shared two-core machine.
  it('the smoke runs of docs/benchmarks.md measure every run and write their results', {
    timeout: 400_000,
  }, () => {
    const smoke = shellBlocks(ROOT, 'docs/benchmarks.md').filter((b) => b.body.startsWith(SMOKE));
    expect(smoke, 'one smoke-run block').toHaveLength(1);
    const [block] = smoke;
    expect(block?.notRun).toBeUndefined();
    // Each line on its own, as a reader runs them: the first may well exit 1 (FAIL) on so little load.
    const lines = (block?.body ?? '').split('\n').filter((line) => line.trim() !== '');
    // The sandbox as the upstream, then the stub (BENCH_UPSTREAM=stub).
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('BENCH_UPSTREAM=stub');
    copy = copyOfTheTree();
    for (const line of lines) smokeRun(copy, line);
  });
});

function smokeRun(dir: string, line: string): void {
  const run = spawnSync('bash', ['-euo', 'pipefail', '-c', line], {
    cwd: dir,
    env: personEnvironment(),
    encoding: 'utf8',
    timeout: 180_000,
  });
  const output = `${run.stdout}\n${run.stderr}`;
  // 2: the benchmark could not run; a signal: it hung past the timeout.
  expect([0, 1], output).toContain(run.status);
  for (const row of [
    '/swap +baseline',
    '/swap +fetch',
    '/swap +service',
    '/refresh +baseline',
    '/refresh +fetch',
    '/refresh +service',
  ]) {
    expect(output, line).toMatch(new RegExp(`^${row} +\\d`, 'm'));
  }

  const results = JSON.parse(readFileSync(join(dir, 'bench/results/latest.json'), 'utf8')) as Results;
  expect(results.settings).toMatchObject({ durationSeconds: 1, connections: 5 });
  expect(results.pass).toBe(run.status === 0);
  expect(results.service.features.sealing).toBe(true);
  expect(Object.keys(results.runs).sort()).toEqual(['refresh', 'swap']);
  const errorChecks = results.checks.filter((check) => check.name.endsWith(' errors'));
  // Both endpoints, each of the three targets: the Agent baseline, the fetch one, the service.
  expect(errorChecks).toHaveLength(6);
  expect(
    errorChecks.filter((check) => !check.pass).map((check) => check.name),
    line,
  ).toEqual([]);
  // No refresh answered by another's call, nothing retried or refused: the runs measured what they say.
  expect(Object.values(results.service.counters)).toEqual([0, 0, 0, 0]);
}
