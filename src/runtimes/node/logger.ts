/** pino for the Node entry: JSON lines on stdout, with secret-named fields censored as a second line of defence. */
import { type Logger as PinoLogger, pino } from 'pino';
import type { LogLevel } from '../../server/config.js';

/**
 * Keys whose values must never be printed, compared without regard to case. Call sites already log
 * chosen fields only; this is the second line of defence should a future change log a whole object.
 */
const SECRET_KEY_NAMES = [
  'authorization',
  'code',
  'code_verifier',
  'codeVerifier',
  'refresh_token',
  'refreshToken',
  'access_token',
  'accessToken',
  'client_secret',
  'clientSecret',
  'encryptionSecrets',
  'password',
  'redisUrl',
  'body',
];
const SECRET_KEYS = new Set(SECRET_KEY_NAMES.map((key) => key.toLowerCase()));
export const CENSORED = '[redacted]';
/** Deep enough for `req.headers.authorization` and whatever a future call site nests. */
const MAX_DEPTH = 4;

function censorValue(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, index) => {
      const censored = censorValue(item, depth + 1);
      if (censored !== item) {
        copy ??= value.slice();
        copy[index] = censored;
      }
    });
    return copy ?? value;
  }
  return censorSecrets(value as Record<string, unknown>, depth);
}

/**
 * The log object with the value of every secret-named key replaced, at any depth up to MAX_DEPTH.
 * Copies only what it changes and never touches the caller's object: a log line without secrets,
 * the usual case, costs one walk over its keys and no allocation. (pino's own `redact` option clones
 * per path and line, and was the largest allocator per request under load: docs/benchmarks.md.)
 */
export function censorSecrets(object: Record<string, unknown>, depth = 0): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    const value = object[key];
    const censored = SECRET_KEYS.has(key.toLowerCase()) ? CENSORED : censorValue(value, depth + 1);
    if (censored !== value) {
      copy ??= { ...object };
      copy[key] = censored;
    }
  }
  return copy ?? object;
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
        [...SECRET_KEY_NAMES, ...SECRET_KEYS].map((key) => [key, () => CENSORED]),
      ),
    },
    destination as never,
  );
}
