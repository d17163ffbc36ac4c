/**
 * The Node logger's second line of defence: whatever object a call site logs, values under
 * secret-named keys never reach the output. (test/log-secrecy.test.ts checks the first line: what the
 * service logs on real requests, at every level.)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { createNodeLogger } from '../src/runtimes/node/logger.js';
import { CENSORED, censorSecrets } from '../src/server/log-redaction.js';

function capture() {
  const sink = new PassThrough();
  const lines: string[] = [];
  sink.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  const logger = createNodeLogger('debug', sink);
  return {
    logger,
    async lines(): Promise<Record<string, unknown>[]> {
      // pino writes synchronously to a stream it did not open; let the PassThrough deliver.
      await new Promise((resolve) => setImmediate(resolve));
      return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    async raw(): Promise<string> {
      await new Promise((resolve) => setImmediate(resolve));
      return lines.join('\n');
    },
  };
}

describe('the Node logger censors secret-named fields', () => {
  it('at the top level, whatever the case of the key', async () => {
    const log = capture();
    log.logger.info(
      {
        code: 'AQ-code-secret',
        refresh_token: 'AQ-refresh-secret',
        Authorization: 'Basic c2VjcmV0',
        clientSecret: 'client-secret-value',
        path: '/swap',
        status: 200,
      },
      'request',
    );
    const [line] = await log.lines();
    expect(line).toMatchObject({
      code: CENSORED,
      refresh_token: CENSORED,
      Authorization: CENSORED,
      clientSecret: CENSORED,
      path: '/swap',
      status: 200,
      msg: 'request',
    });
  });

  it('nested in objects and arrays, as a whole request or answer would be', async () => {
    const log = capture();
    log.logger.warn({
      req: { headers: { authorization: 'Bearer header-secret', host: 'example.com' } },
      upstream: { body: 'grant_type=refresh_token&refresh_token=body-secret', status: 400 },
      answers: [{ access_token: 'BQ-array-secret', token_type: 'Bearer' }],
      deep: { a: { b: { code_verifier: 'verifier-secret' } } },
    });
    const raw = await log.raw();
    for (const secret of ['header-secret', 'body-secret', 'BQ-array-secret', 'verifier-secret']) {
      expect(raw).not.toContain(secret);
    }
    const [line] = await log.lines();
    expect(line).toMatchObject({
      req: { headers: { authorization: CENSORED, host: 'example.com' } },
      upstream: { body: CENSORED, status: 400 },
      answers: [{ access_token: CENSORED, token_type: 'Bearer' }],
      deep: { a: { b: { code_verifier: CENSORED } } },
    });
  });

  it("in a child logger's bindings", async () => {
    const log = capture();
    log.logger.child({ reqId: 'r-1', refreshToken: 'bound-secret' }).info({ status: 200 }, 'request');
    const raw = await log.raw();
    expect(raw).not.toContain('bound-secret');
    expect(raw).toContain('"reqId":"r-1"');
  });

  it("never changes the caller's object, and passes one without secrets through as it is", () => {
    const caller = { code: 'keep-me', nested: { password: 'keep-me-too' }, list: [{ body: 'x' }] };
    const snapshot = structuredClone(caller);
    const censored = censorSecrets(caller);
    expect(caller).toEqual(snapshot);
    expect(censored).not.toBe(caller);
    expect(censored).toEqual({ code: CENSORED, nested: { password: CENSORED }, list: [{ body: CENSORED }] });

    const plain = { method: 'POST', path: '/refresh', status: 200, durationMs: 1.5, nested: { ok: true } };
    expect(censorSecrets(plain)).toBe(plain);
  });
});

describe('the Node logger buffers stdout, and every line still gets out', () => {
  const FIXTURE = fileURLToPath(new URL('./fixtures/buffered-log.ts', import.meta.url));

  function start(how: 'exit' | 'crash' | 'stay') {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, how], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    const lines = () =>
      stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { line?: number }).line);
    return { child, lines, exited: once(child, 'exit') };
  }

  it.each(['exit', 'crash'] as const)('on %s right after logging: all lines are written', async (how) => {
    const run = start(how);
    await run.exited;
    expect(run.lines()).toEqual([1, 2, 3]);
  });

  it('on a process that keeps running: the flush timer writes them, without an exit', async () => {
    const run = start('stay');
    try {
      await vi.waitFor(() => expect(run.lines()).toEqual([1, 2, 3]), { timeout: 10_000, interval: 20 });
      expect(run.child.exitCode).toBeNull();
    } finally {
      run.child.kill('SIGKILL');
      await run.exited;
    }
  });
});
