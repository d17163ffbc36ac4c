/** pino for the Node entry: JSON lines on stdout, with secret-named fields censored as a second line of defence. */
import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';
import type { LogLevel } from '../../server/config/index.js';
import { CENSORED, censorSecrets, SECRET_KEY_NAMES } from '../../server/log-redaction.js';

/** Lines are written once this many bytes are buffered, or by the flush timer. */
const BUFFER_BYTES = 4096;
/** How late a buffered line may reach stdout at most, on a service that logs little. */
export const FLUSH_INTERVAL_MS = 200;

let stdout: ReturnType<typeof pino.destination> | undefined;

/**
 * stdout, buffered: one write(2) per 4 KB of lines instead of one per line, which was a measured
 * share of every request's CPU time (docs/benchmarks.md). Still synchronous writes, so nothing is
 * lost to a pending asynchronous write: the buffer is flushed by an unref'd timer within
 * FLUSH_INTERVAL_MS, on a graceful shutdown (shutdown.ts), and at exit, however the process exits
 * short of SIGKILL (an uncaught exception included). One per process: every logger of the CLI shares it and its one exit hook.
 */
function bufferedStdout(): DestinationStream {
  if (stdout === undefined) {
    const destination = pino.destination({
      dest: 1,
      sync: true,
      minLength: BUFFER_BYTES,
      periodicFlush: FLUSH_INTERVAL_MS,
    });
    const flush = () => destination.flushSync();
    process.once('exit', flush);
    // A crash skips `exit`: the lines before it are the ones worth having.
    process.once('uncaughtExceptionMonitor', flush);
    stdout = destination;
  }
  return stdout;
}

export function createNodeLogger(level: LogLevel, destination?: NodeJS.WritableStream): PinoLogger {
  return pino(
    {
      level,
      base: { service: 'spotify-token-swap' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: (object) => censorSecrets(object) },
      // pino formats a child's bindings without `formatters.log`, but through the serializers: the
      // secret names, as written and in lower case, are censored there too.
      serializers: Object.fromEntries(
        [...SECRET_KEY_NAMES, ...SECRET_KEY_NAMES.map((key) => key.toLowerCase())].map((key) => [
          key,
          () => CENSORED,
        ]),
      ),
    },
    (destination as DestinationStream | undefined) ?? bufferedStdout(),
  );
}
