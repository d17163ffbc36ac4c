/** pino for the Node entry: JSON lines on stdout, with secret-named fields censored as a second line of defence. */
import { type Logger as PinoLogger, pino } from 'pino';
import type { LogLevel } from '../../server/config/index.js';
import { CENSORED, censorSecrets, SECRET_KEY_NAMES } from '../../server/log-redaction.js';

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
    destination as never,
  );
}
