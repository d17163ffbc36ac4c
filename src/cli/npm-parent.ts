/**
 * `npx token-swap serve` and `npm start` run the CLI under `sh -c`, and npm passes a SIGTERM on to
 * that shell only. Measured on Debian 12 with npm 11: the shell dies, npm exits 143, and the server
 * runs on, orphaned, still holding its port. So under npm (which sets `npm_lifecycle_event` for
 * both), the server also takes the end of its parent as a SIGTERM: it notices within half a second
 * that it was handed to another parent, and stops as gracefully as on the signal itself.
 */
import type { SignalSource, StopSignal } from './io.js';

const CHECK_EVERY_MS = 500;

/** Whether npm (`npx`, `npm exec`, `npm start`, `npm run`) started this process. */
export function launchedByNpm(env: Readonly<Record<string, string | undefined>>): boolean {
  return Boolean(env.npm_lifecycle_event);
}

/**
 * `signals`, where a SIGTERM listener also hears of the parent's end. The check runs only while
 * someone listens for SIGTERM (a server), and never keeps the process alive by itself.
 */
export function withParentEnd(
  signals: SignalSource,
  parentPid: () => number = () => process.ppid,
): SignalSource {
  const listeners = new Set<(signal: StopSignal) => void>();
  const parent = parentPid();
  let timer: ReturnType<typeof setInterval> | undefined;
  const check = () => {
    if (parentPid() === parent) return;
    clearInterval(timer);
    timer = undefined;
    for (const listener of [...listeners]) listener('SIGTERM');
  };
  return {
    on(signal, listener) {
      signals.on(signal, listener);
      if (signal !== 'SIGTERM') return;
      listeners.add(listener);
      if (timer === undefined) {
        timer = setInterval(check, CHECK_EVERY_MS);
        timer.unref();
      }
    },
    off(signal, listener) {
      signals.off(signal, listener);
      if (signal !== 'SIGTERM') return;
      listeners.delete(listener);
      if (listeners.size === 0) {
        clearInterval(timer);
        timer = undefined;
      }
    },
  };
}
