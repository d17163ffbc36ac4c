/**
 * `npx token-swap serve` and `npm start` put `sh -c` between npm and the server, and npm passes a
 * SIGTERM to that shell only, which dies without passing it on (measured: see src/cli/npm-parent.ts).
 * These runs rebuild that chain without npm's own start-up: a shell that waits for the built CLI, as
 * npm's does, and a SIGTERM for the shell alone.
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { withParentEnd } from '../src/cli/npm-parent.js';
import { BIN, emptyDir } from './helpers/cli.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('a server started by npm', () => {
  it('stops gracefully when the shell npm signalled is gone, instead of running on orphaned', async () => {
    const shell = spawn(
      'sh',
      ['-c', `"${process.execPath}" "${BIN}" serve --sandbox --port 0 & echo "pid $!" >&2; wait`],
      {
        cwd: emptyDir(),
        // What npm sets for `npx` (npm_lifecycle_event=npx) and `npm start` (=start).
        env: { PATH: process.env.PATH ?? '', npm_lifecycle_event: 'npx' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    let stdout = '';
    shell.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    shell.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    // The pipes close once the last process holding them, the server, has ended.
    const closed = new Promise((resolve) => shell.on('close', resolve));
    await expect.poll(() => stderr, { timeout: 15_000 }).toMatch(/Swap service\s+http:\/\/\S+/);
    const server = Number(/pid (\d+)/.exec(stderr)?.[1]);
    const url = /Swap service\s+(http:\/\/\S+)/.exec(stderr)?.[1] ?? '';
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    shell.kill('SIGTERM');
    try {
      await expect.poll(() => alive(server), { timeout: 5_000, interval: 100 }).toBe(false);
    } finally {
      // Should it run on, it must not outlive the test.
      if (alive(server)) process.kill(server, 'SIGKILL');
    }
    await closed;
    // It stopped as on SIGTERM: the graceful path, which logs why.
    expect(stdout).toContain('"signal":"SIGTERM"');
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});

describe('withParentEnd', () => {
  it('tells SIGTERM listeners once when the parent changes, and stops checking when nobody listens', async () => {
    const signals = new EventEmitter();
    let parent = 100;
    const watched = withParentEnd(signals, () => parent);
    const heard: string[] = [];
    const listener = (signal: string) => heard.push(signal);
    watched.on('SIGTERM', listener);
    // A real SIGTERM still arrives as before.
    signals.emit('SIGTERM', 'SIGTERM');
    expect(heard).toEqual(['SIGTERM']);
    parent = 1;
    await expect.poll(() => heard, { interval: 50 }).toEqual(['SIGTERM', 'SIGTERM']);
    watched.off('SIGTERM', listener);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });
});
