/**
 * The Lambda cold-start measurement works from end to end: the smoke run of docs/benchmarks.md ("AWS
 * Lambda package"), run as written. Its numbers are not checked (no timed assertions): only that each
 * measurement is there, the first invocations of `/healthz` and `/refresh` among them (the script
 * fails unless both answered 200).
 */
import { describe, expect, it } from 'vitest';
import { runSmokeBlock } from '../helpers/bench-smoke.js';

const SMOKE = 'LAMBDA_SAMPLES=1 ';

/** The minimum of each `... wall X ms min, Y ms median; CPU ...` line, by its label. */
function minimums(output: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of output.split('\n')) {
    const match = /^\s*(.+?)\s+wall ([\d.]+) ms min/.exec(line);
    if (match?.[1] !== undefined) found.set(match[1], Number(match[2]));
  }
  return found;
}

describe('bench/lambda-import.ts', () => {
  // A build, a Node 22 from npx's cache and five fresh processes on a shared two-core machine.
  it('the smoke run of docs/benchmarks.md times the import and the first invocations', {
    timeout: 200_000,
  }, () => {
    const run = runSmokeBlock('docs/benchmarks.md', SMOKE, 180_000);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Node v22\.\d+\.\d+, 1 fresh processes each; load average /m);
    const found = minimums(run.stdout);
    expect([...found.keys()]).toEqual([
      'import',
      '+ ioredis (lazy)',
      'GET /healthz: import',
      'first invocation',
      'import + first invocation',
      'POST /refresh: import',
      'unbundled import',
    ]);
    for (const value of found.values()) expect(value).toBeGreaterThan(0);
    expect(run.stdout.match(/ {4}first invocation wall [\d.]+ ms min/g)).toHaveLength(2);
  });
});
