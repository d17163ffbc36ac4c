/**
 * The second line of defence against a secret in a log line, shared by every logger (pino on Node, the
 * console logger elsewhere). Call sites log chosen fields only; should a future change log a whole
 * object, the values of secret-named keys are replaced, at any depth up to MAX_DEPTH, in snake_case and
 * camelCase alike.
 */

/** Keys whose values must never be printed, compared without regard to case. */
export const SECRET_KEY_NAMES: readonly string[] = [
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
  'legacyEncryptionSecrets',
  'password',
  'redisUrl',
  'cookie',
  'set-cookie',
  // A DPoP proof with the token it goes with is good for one request within its minute.
  'dpop',
  'body',
];
const SECRET_KEYS = new Set(SECRET_KEY_NAMES.map((key) => key.toLowerCase()));
export const CENSORED = '[redacted]';
/** Deep enough for `req.headers.authorization` and whatever a future call site nests. */
const MAX_DEPTH = 4;

function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key.toLowerCase());
}

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
 * The log object with the value of every secret-named key replaced. Copies only what it changes and
 * never touches the caller's object: a log line without secrets, the usual case, costs one walk over its
 * keys and no allocation. (pino's own `redact` option clones per path and line, and was the largest
 * allocator per request under load: docs/benchmarks.md.)
 */
export function censorSecrets(object: Record<string, unknown>, depth = 0): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    const value = object[key];
    const censored = isSecretKey(key) ? CENSORED : censorValue(value, depth + 1);
    if (censored !== value) {
      copy ??= { ...object };
      copy[key] = censored;
    }
  }
  return copy ?? object;
}
