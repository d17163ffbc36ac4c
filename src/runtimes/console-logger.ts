/**
 * A Logger for runtimes without pino (Workers, Deno, Bun, Lambda): one JSON line per entry on the
 * console, the same shape as the Node logs. Call sites choose their fields, so nothing secret is
 * passed in; keys that would be secret are dropped anyway, as on Node.
 */
import type { LogLevel } from '../server/config.js';
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
const SECRET_KEYS =
  /^(authorization|code|code_verifier|refresh_token|access_token|client_secret|password|body)$/i;

export function createConsoleLogger(level: LogLevel, base: Record<string, unknown> = {}): Logger {
  const emit =
    (name: 'error' | 'warn' | 'info' | 'debug') => (object: Record<string, unknown>, message?: string) => {
      if (RANK[name] < RANK[level]) return;
      const fields: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(object)) {
        fields[key] = SECRET_KEYS.test(key) ? '[redacted]' : value;
      }
      const line = JSON.stringify({
        level: RANK[name],
        time: new Date().toISOString(),
        service: 'spotify-token-swap',
        ...base,
        ...fields,
        msg: message,
      });
      (name === 'error' ? console.error : console.log)(line);
    };
  const logger: Logger & { child(bindings: Record<string, unknown>): Logger } = {
    error: emit('error'),
    warn: emit('warn'),
    info: emit('info'),
    debug: emit('debug'),
    child: (bindings) => createConsoleLogger(level, { ...base, ...bindings }),
  };
  return logger;
}
