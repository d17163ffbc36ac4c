/**
 * Runs documentation blocks as a person runs them in a terminal: a scratch directory, a clean shell
 * environment, `bash -euo pipefail`, and only the ports changed (to free ones, on a shared machine).
 * A block that starts a server runs in the background, in its own process group, until the test stops
 * it; it counts as up once its port answers HTTP.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { ENV } from '../../src/server/config/env.js';
import type { ShellBlock } from './doc-blocks.js';

export interface Session {
  cwd: string;
  env: Record<string, string>;
  /** Port written in the docs -> port used here. */
  ports: Map<number, number>;
}

export interface Background {
  output(): string;
  /** SIGTERM to the whole process group, SIGKILL after `graceMs`; resolves with the shell's exit. */
  stop(graceMs?: number): Promise<number | null>;
}

const groups = new Set<number>();
process.once('exit', () => {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/**
 * A person's shell environment: this process's, without the npm_* variables of a surrounding `npm test`
 * (they change what a nested `npx` resolves) and without any configuration of the service or the CLI.
 */
export function personEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name in ENV || /^(npm_|TOKEN_SWAP_|SANDBOX_)/i.test(name)) continue;
    env[name] = value;
  }
  return env;
}

export function localize(body: string, ports: Map<number, number>): string {
  return body.replace(/\b\d{4}\b/g, (digits) => String(ports.get(Number(digits)) ?? digits));
}

export function runBlock(block: ShellBlock, session: Session, env: Record<string, string> = {}): string {
  return execFileSync('bash', ['-euo', 'pipefail', '-c', localize(block.body, session.ports)], {
    cwd: session.cwd,
    env: { ...session.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
}

async function answers(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** Starts `block` in the background and resolves once `docPort` (localized) answers HTTP. */
export async function startBlock(
  block: ShellBlock,
  session: Session,
  docPort: number,
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Background> {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', localize(block.body, session.ports)], {
    cwd: session.cwd,
    env: { ...session.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid ?? 0;
  groups.add(pid);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = exitOf(child);
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(-pid, 'SIGTERM');
      const timer = setTimeout(() => process.kill(-pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    groups.delete(pid);
    return exited;
  };
  const port = session.ports.get(docPort) ?? docPort;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (!(await answers(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop(1_000);
      throw new Error(`${block.page}:${block.line} did not answer on port ${port}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { output: () => output, stop };
}
