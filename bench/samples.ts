/**
 * What the start-up, Lambda-import and runtime scripts share: many fresh-process samples summed up
 * as min and median (the minimum is the least disturbed by the other work on a shared machine), and
 * the load average to print beside them.
 */
import { loadavg } from 'node:os';

export interface Summary {
  min: number;
  median: number;
  samples: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return { min: sorted[0] ?? Number.NaN, median, samples: sorted.length };
}

export const ms = (value: number) => `${value.toFixed(1)} ms`;
export const fmt = (s: Summary, unit: (value: number) => string = ms) =>
  `${unit(s.min)} min, ${unit(s.median)} median`;

export function loadAverage(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

/** A whole number from the environment, within bounds: every measurement here is bounded. */
export function count(name: string, fallback: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`${name} must be a whole number from 1 to ${max}`);
  }
  return value;
}

/** The Node 22 binary (`npx -p node@22`), as Lambda's nodejs22.x runs the handler. */
export async function node22(): Promise<string> {
  const { execFileSync } = await import('node:child_process');
  return execFileSync('npx', ['-y', '-p', 'node@22', 'node', '-p', 'process.execPath'], {
    encoding: 'utf8',
  }).trim();
}
