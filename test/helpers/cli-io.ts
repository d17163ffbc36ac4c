/** An `io` for running `token-swap` commands in-process: captured output, a given env, fake signals. */
import { EventEmitter } from 'node:events';
import type { CliIo, StopSignal, Writer } from '../../src/cli/io.js';

export interface MemoryIo extends CliIo {
  signals: EventEmitter & CliIo['signals'];
  out(): string;
  err(): string;
  /** Resolves with the first match of `pattern` in what was written to stderr (where banners go). */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Delivers a signal to the command, as the process would. */
  signal(name: StopSignal): void;
}

/** `now`: the commands' clock, for what they say about time (default the real one). */
export function memoryIo(env: Record<string, string> = {}, now: () => number = Date.now): MemoryIo {
  let out = '';
  let err = '';
  const written = new EventEmitter();
  const stdout: Writer = {
    isTTY: false,
    write(text: string) {
      out += text;
      return true;
    },
  };
  const stderr: Writer = {
    isTTY: false,
    write(text: string) {
      err += text;
      written.emit('stderr');
      return true;
    },
  };
  const signals = new EventEmitter();
  return {
    stdout,
    stderr,
    // Logs off: pino writes to the real stdout, not through `io`.
    env: { LOG_LEVEL: 'silent', ...env },
    signals,
    now,
    out: () => out,
    err: () => err,
    signal: (name) => {
      signals.emit(name, name);
    },
    waitForStderr(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = err.match(pattern);
          if (!match) return;
          clearTimeout(timer);
          written.off('stderr', check);
          resolve(match);
        };
        const timer = setTimeout(() => {
          written.off('stderr', check);
          reject(new Error(`no ${pattern} on stderr:\n${err}`));
        }, timeoutMs);
        written.on('stderr', check);
        check();
      });
    },
  };
}
