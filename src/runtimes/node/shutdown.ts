/**
 * How `serve` and `sandbox` stop: on SIGTERM or SIGINT the server drains (server.ts: no new
 * connections, `Connection: close` on every answer, /readyz not ready), in-flight requests finish
 * within the grace period, then the caller exits 0; a second signal, or a shutdown that fails, ends it
 * at once with a ShutdownError, never a process left hanging.
 */
import type { Logger as PinoLogger } from 'pino';
import type { RunningServer } from './server.js';

/** Why a graceful shutdown did not end well: a second signal, or a failing close or cleanup. */
export class ShutdownError extends Error {
  override readonly name = 'ShutdownError';
  readonly code: 'interrupted' | 'failed';

  constructor(code: 'interrupted' | 'failed', message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

export type StopSignal = 'SIGINT' | 'SIGTERM';

/** `process`, or an EventEmitter in tests: where SIGINT and SIGTERM come from. */
export interface SignalSource {
  on(signal: StopSignal, listener: (signal: StopSignal) => void): unknown;
  off(signal: StopSignal, listener: (signal: StopSignal) => void): unknown;
}

/**
 * SIGTERM/SIGINT: stop accepting, finish in-flight requests, run `cleanup`, then resolve, so that the
 * caller exits 0. It rejects with a ShutdownError when closing or the cleanup fails, and at once on
 * a second signal; it never leaves the caller waiting on a shutdown that went wrong. The caller
 * exits: this only reports.
 */
export function stopGracefullyOnSignals(
  running: RunningServer,
  logger: PinoLogger,
  cleanup?: () => Promise<void> | void,
  signals: SignalSource = process,
  /** How long in-flight requests may take to finish; default: the server's own (NodeServerOptions). */
  graceMs?: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopping = false;
    const settle = (error?: ShutdownError) => {
      signals.off('SIGTERM', stop);
      signals.off('SIGINT', stop);
      // Synchronous with the buffered stdout of logger.ts: every line is out before the caller exits.
      logger.flush();
      if (error) reject(error);
      else resolve();
    };
    function stop(signal: StopSignal) {
      if (stopping) {
        logger.warn({ signal }, 'second signal: stopping at once');
        settle(
          new ShutdownError('interrupted', `${signal} again: stopped without finishing in-flight requests`),
        );
        return;
      }
      stopping = true;
      logger.info({ signal }, 'shutting down: finishing in-flight requests');
      const stopped = (async () => {
        try {
          await running.close(graceMs);
        } finally {
          // Released even when closing failed: the process is about to end either way.
          await cleanup?.();
        }
      })();
      stopped.then(
        () => {
          logger.info({}, 'stopped');
          settle();
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          const reason = error instanceof Error ? error.message : String(error);
          settle(new ShutdownError('failed', `could not shut down cleanly: ${reason}`, { cause: error }));
        },
      );
    }
    signals.on('SIGTERM', stop);
    signals.on('SIGINT', stop);
  });
}
