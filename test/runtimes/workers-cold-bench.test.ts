/**
 * The Workers cold-start measurement works from end to end: the smoke run of docs/benchmarks.md
 * ("Cloudflare Workers"), run as written. Its numbers are not checked (no timed assertions): only that
 * every measurement is there and that the bundle it measured is the one of the size budget.
 */
import { describe, expect, it } from 'vitest';
import { runSmokeBlock } from '../helpers/bench-smoke.js';
import { MINIFLARE_MAJOR } from './binaries.js';

const SMOKE = 'WORKERS_COLD_SAMPLES=1 ';

interface Stats {
  min: string;
  median: string;
  max: string;
}

describe('bench/workers-cold.ts', () => {
  // Nine workerd starts and a build on a shared two-core machine.
  it('the smoke run of docs/benchmarks.md measures each request of the service and the bare Workers', {
    timeout: 200_000,
  }, () => {
    const run = runSmokeBlock('docs/benchmarks.md', SMOKE, 180_000);
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      miniflare: number;
      bundle: { bytes: number };
      loadAverage: { before: string[]; after: string[] };
      firstRequestCpuMs: Record<string, { service: Stats; bare: Stats; 'bare+fetch'?: Stats }>;
    };
    expect(result.miniflare).toBe(MINIFLARE_MAJOR);
    expect(result.bundle.bytes).toBeLessThanOrEqual(250 * 1024);
    expect(result.loadAverage.before).toHaveLength(3);
    expect(Object.keys(result.firstRequestCpuMs).sort()).toEqual(['GET /healthz', 'POST /refresh']);
    for (const { service, bare } of Object.values(result.firstRequestCpuMs)) {
      for (const value of [service.min, bare.min]) expect(Number(value)).toBeGreaterThan(0);
    }
    // A refresh is measured beside a Worker that makes the one call to Accounts a refresh makes too.
    expect(Number(result.firstRequestCpuMs['POST /refresh']?.['bare+fetch']?.min)).toBeGreaterThan(0);
  });
});
