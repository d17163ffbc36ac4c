/**
 * A runtime's server as a child process: started with a clean environment in an empty directory
 * (no inherited SPOTIFY_* values, no `.env` that Bun would load), ready once it prints its URL,
 * and always stopped: by the test's `afterAll`, or by this process's exit if a test run dies.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { emptyDir } from '../helpers/cli.js';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  /** Base URL without a trailing slash. */
  url: string;
  child: ChildProcess;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  exited: Promise<Exit>;
  /** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
  stop(graceMs?: number): Promise<Exit>;
}

export interface ServerProcessOptions {
  env: Record<string, string>;
  /** Matched against the output; its first group is the URL. */
  urlPattern: RegExp;
  cwd?: string;
  timeoutMs?: number;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export async function startServerProcess(
  command: string,
  args: string[],
  options: ServerProcessOptions,
): Promise<ServerProcess> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  const child = spawn(command, args, {
    cwd: options.cwd ?? emptyDir(),
    env: { ...env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} printed no URL within ${options.timeoutMs ?? 15_000} ms:\n${output}`));
    }, options.timeoutMs ?? 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = options.urlPattern.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1].replace(/\/$/, ''));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${exit.code ?? exit.signal}) before it listened:\n${output}`));
    });
  });
  return {
    url,
    child,
    output: () => output,
    exited,
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  };
}
