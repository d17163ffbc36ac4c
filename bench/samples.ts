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

export interface Started {
  /** From spawn to the first 200 on GET /healthz. */
  ms: number;
  /** CPU time the spawned process had used by then (not its children's: npm's server is one). */
  cpuMs: number | undefined;
}

/** A free loopback port: bound, read, released. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `command` (which must listen on 127.0.0.1:`port`), polls GET /healthz until it answers 200,
 * then stops its whole process group (npm's children too) and waits for the exit. Bounded by
 * `timeoutMs`: a command that never answers fails the sample.
 */
/** Loads this process's fetch before the first sample, so that its start-up is not in one. */
export async function warmFetch(): Promise<void> {
  await fetch('http://127.0.0.1:9/').catch(() => undefined);
}

export async function timeToHealthz(
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; port: number; timeoutMs?: number },
): Promise<Started> {
  const { spawn } = await import('node:child_process');
  const { cpuSeconds } = await import('./processes.js');
  const started = performance.now();
  const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: 'ignore', detached: true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = started + (options.timeoutMs ?? 20_000);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited ${child.exitCode}`);
      if (performance.now() > deadline) throw new Error(`${command} ${args.join(' ')}: no /healthz in time`);
      const ok = await fetch(`http://127.0.0.1:${options.port}/healthz`).then(
        (response) => response.status === 200,
        () => false,
      );
      const ms = performance.now() - started;
      if (ok) {
        const cpu = child.pid === undefined ? undefined : cpuSeconds(child.pid);
        return { ms, cpuMs: cpu === undefined ? undefined : cpu * 1000 };
      }
      // Every 2 ms: finer would only take CPU from the process being timed (2 cores).
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  } finally {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await exited;
  }
}
