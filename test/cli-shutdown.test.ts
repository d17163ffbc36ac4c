/**
 * How `serve` and `sandbox` stop: stopGracefullyOnSignals (src/runtimes/node/server.ts) on a real
 * server, with signals delivered by an EventEmitter, and what the CLI prints when stopping fails.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { knownFailure } from '../src/cli/fail.js';
import { createNodeLogger } from '../src/runtimes/node/logger.js';
import {
  type RunningServer,
  ShutdownError,
  startNodeServer,
  stopGracefullyOnSignals,
} from '../src/runtimes/node/server.js';

const logger = createNodeLogger('silent');

function start(): Promise<RunningServer> {
  return startNodeServer({ host: '127.0.0.1', port: 0, handler: () => () => new Response('ok') });
}

/** Settles with what the shutdown promise did, or says that it is still pending. */
function outcome(promise: Promise<void>): Promise<unknown> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => error,
  );
}

describe('graceful shutdown', () => {
  it('resolves once the server has stopped, and stops listening for signals', async () => {
    const running = await start();
    const signals = new EventEmitter();
    let cleaned = false;
    const stopped = stopGracefullyOnSignals(
      running,
      logger,
      () => {
        cleaned = true;
      },
      signals,
    );
    signals.emit('SIGTERM', 'SIGTERM');
    expect(await outcome(stopped)).toBe('resolved');
    expect(cleaned).toBe(true);
    expect(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT')).toBe(0);
    await expect(fetch(running.url)).rejects.toThrow();
  });

  it('the graceful-shutdown promise rejects when the cleanup fails, instead of leaving the process hanging', async () => {
    const running = await start();
    const signals = new EventEmitter();
    const stopped = stopGracefullyOnSignals(
      running,
      logger,
      async () => {
        throw new Error('Redis did not let go');
      },
      signals,
    );
    signals.emit('SIGTERM', 'SIGTERM');
    const error = await outcome(stopped);
    expect(error).toBeInstanceOf(ShutdownError);
    expect((error as ShutdownError).message).toBe('could not shut down cleanly: Redis did not let go');
    // The server itself is closed all the same.
    await expect(fetch(running.url)).rejects.toThrow();
    // And the CLI says so in one line, with a non-zero exit.
    expect(knownFailure(error)).toMatchObject({
      exitCode: 1,
      message: 'could not shut down cleanly: Redis did not let go',
    });
  });

  it('the graceful-shutdown promise rejects when closing the server fails, after the cleanup ran', async () => {
    const running = await start();
    const failing: RunningServer = { ...running, close: () => Promise.reject(new Error('close failed')) };
    const signals = new EventEmitter();
    let cleaned = false;
    const stopped = stopGracefullyOnSignals(
      failing,
      logger,
      () => {
        cleaned = true;
      },
      signals,
    );
    signals.emit('SIGINT', 'SIGINT');
    expect(await outcome(stopped)).toMatchObject({
      name: 'ShutdownError',
      code: 'failed',
      message: 'could not shut down cleanly: close failed',
    });
    expect(cleaned).toBe(true);
    await running.close();
  });

  it('closing twice waits for the same close, and does not fail', async () => {
    const running = await start();
    await Promise.all([running.close(), running.close()]);
    await running.close();
  });
});
