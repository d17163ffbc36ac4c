/**
 * The logging seam. The core only needs this interface, which pino's Logger satisfies, so the
 * same app runs where pino does not (workerd) with a console-backed logger.
 *
 * What is logged is chosen field by field at each call site: never a request body, a query string,
 * a token, a code, a verifier, a secret or an Authorization header. Every runtime's logger censors
 * secret-named fields on top (log-redaction.ts), as a second line of defence.
 */
export type LogFn = (object: Record<string, unknown>, message?: string) => void;

export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  /** Present on pino and the console logger: a logger that adds `bindings` to every line. */
  child?(bindings: Record<string, unknown>): Logger;
}

const noop: LogFn = () => {};

export const silentLogger: Logger = { error: noop, warn: noop, info: noop, debug: noop };

/** A logger that adds `fields` to every line, with the logger's own `child` when it has one. */
export function childLogger(logger: Logger, fields: Record<string, unknown>): Logger {
  if (logger.child) return logger.child(fields);
  const bind =
    (level: 'error' | 'warn' | 'info' | 'debug'): LogFn =>
    (object, message) =>
      logger[level]({ ...fields, ...object }, message);
  return { error: bind('error'), warn: bind('warn'), info: bind('info'), debug: bind('debug') };
}
