/**
 * A Logger for runtimes without pino (Workers, Deno, Bun, Lambda): one JSON line per entry on the
 * console, the same shape as the Node logs, censored by the same walk as on Node (log-redaction.ts).
 */
import type { LogLevel } from '../server/config/index.js';
import { censorSecrets } from '../server/log-redaction.js';
import type { Logger } from '../server/logger.js';

const RANK: Record<LogLevel, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: 99,
};

export function createConsoleLogger(level: LogLevel, base: Record<string, unknown> = {}): Logger {
  const emit =
    (name: 'error' | 'warn' | 'info' | 'debug') => (object: Record<string, unknown>, message?: string) => {
      if (RANK[name] < RANK[level]) return;
      const line = JSON.stringify({
        level: RANK[name],
        time: new Date().toISOString(),
        service: 'spotify-token-swap',
        ...censorSecrets({ ...base, ...object }),
        msg: message,
      });
      (name === 'error' ? console.error : console.log)(line);
    };
  return {
    error: emit('error'),
    warn: emit('warn'),
    info: emit('info'),
    debug: emit('debug'),
    child: (bindings) => createConsoleLogger(level, { ...base, ...bindings }),
  };
}
