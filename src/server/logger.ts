/**
 * The logging seam. The core only needs this interface, which pino's Logger satisfies, so the
 * same app runs where pino does not (workerd) with a console-backed logger.
 *
 * What is logged is chosen field by field at each call site: never a request body, a query string,
 * a token, a code, a verifier, a secret or an Authorization header. Runtimes add redaction on top
 * as a second line of defence.
 */
export type LogFn = (object: Record<string, unknown>, message?: string) => void;

export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
}

const noop: LogFn = () => {};

export const silentLogger: Logger = { error: noop, warn: noop, info: noop, debug: noop };
