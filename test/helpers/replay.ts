/**
 * What the attack replays (test/attack-replay*.test.ts) share: a spawned `token-swap` server found by
 * its banner, raw bytes on a socket for the requests fetch cannot send, and a health check that must
 * answer quickly between attacks.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { expect } from 'vitest';
import { type CliRun, runCli } from './cli.js';

export interface Spawned {
  run: CliRun;
  url: string;
  /** The control token the banner printed. */
  controlToken: string;
}

/** Starts `token-swap <args>` on a free port and reads its URL and control token from the banner. */
export async function spawnServer(
  args: string[],
  urlLine: RegExp,
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<Spawned> {
  const run = runCli([...args, '--port', '0'], options);
  const [, url = ''] = await run.waitFor(urlLine, 20_000);
  const [, controlToken = ''] = /Control token\s+(\S+)/.exec(run.stderr()) ?? [];
  return { run, url, controlToken };
}

/** Stops a spawned server with SIGTERM and returns how it exited. */
export async function stop(spawned: Spawned | undefined) {
  if (!spawned || spawned.run.child.exitCode !== null) return undefined;
  spawned.run.child.kill('SIGTERM');
  return spawned.run.exited;
}

/** Writes raw bytes on a fresh connection and reads until the server closes it. */
export async function rawRequest(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(bytes);
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('utf8');
}

/** The status, headers and JSON body of one raw HTTP/1.1 answer. */
export function parseRaw(answer: string) {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) as unknown };
}

/** How long a health check may take between attacks, on a busy two-core machine. */
export const HEALTHY_WITHIN_MS = 1_000;

/** Expects `/healthz` to answer 200 within `withinMs`; returns how long it took. */
export async function expectHealthy(url: string, withinMs = HEALTHY_WITHIN_MS): Promise<number> {
  const started = performance.now();
  const answer = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
  const ms = performance.now() - started;
  expect(answer.status).toBe(200);
  expect(await answer.json()).toEqual({ status: 'ok' });
  expect(ms).toBeLessThan(withinMs);
  return ms;
}

/** The resident set size of a process, in MiB (Linux: /proc). */
export function rssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  return Math.round(kib / 1024);
}

/** An error as the service answers it: JSON `{error, error_description}` with the given status. */
export async function expectJsonError(answer: Response, status: number, error: string): Promise<string> {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await answer.json()) as { error: unknown; error_description: unknown };
  expect(body.error).toBe(error);
  expect(typeof body.error_description).toBe('string');
  return body.error_description as string;
}

/** One keep-alive connection that sends a GET and reads one answer at a time. */
export async function keepAlive(url: string) {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  let buffered = '';
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const waiter of waiters.splice(0)) waiter();
  };
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    wake();
  });
  socket.on('close', wake);
  return {
    async get(path: string): Promise<ReturnType<typeof parseRaw>> {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        const length = /content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1];
        if (end !== -1 && length !== undefined && buffered.length >= end + 4 + Number(length)) {
          const answer = buffered.slice(0, end + 4 + Number(length));
          buffered = buffered.slice(answer.length);
          return parseRaw(answer);
        }
        if (socket.closed) throw new Error(`connection closed before an answer: ${buffered}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    close: () => socket.destroy(),
  };
}
