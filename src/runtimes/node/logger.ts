/** pino for the Node entry: JSON lines on stdout, with redaction as a second line of defence. */
import { type Logger as PinoLogger, pino } from 'pino';
import type { LogLevel } from '../../server/config.js';

/**
 * Keys that must never be printed. Call sites already log chosen fields only; this is the second
 * line of defence should a future change log a whole object.
 */
const REDACT_KEYS = [
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

export function createNodeLogger(level: LogLevel, destination?: NodeJS.WritableStream): PinoLogger {
  return pino(
    {
      level,
      base: { service: 'spotify-token-swap' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [...REDACT_KEYS, ...REDACT_KEYS.map((key) => `*.${key}`), 'req.headers.authorization'],
        censor: '[redacted]',
      },
    },
    destination as never,
  );
}
