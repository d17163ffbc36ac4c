/**
 * The LoginStore (src/server/logins/store.ts) over the `LOGINS` Durable Object namespace binding
 * (wrangler.toml): each call goes to the object of its login (login-object.ts) as a JSON POST on the
 * object's stub. Shared by every isolate and kept across deployments, like the Redis store.
 *
 * Any failure (the object unreachable, an answer other than 200, an answer of the wrong shape) is a
 * rejected promise: the token endpoints decide what a failed store means (endpoints/login-state.ts:
 * a rotating app answers 503, any other goes on). No error names a key, a token or an answer.
 */
import type { LoginRecord, LoginStore } from '../../server/logins/store.js';
import { LOGIN_ANSWER, type LoginAnswer, type LoginOperation, type LoginRequest } from './login-wire.js';
import type { DurableObjectNamespace } from './platform.js';

export class LoginObjectError extends Error {
  override readonly name = 'LoginObjectError';
}

/** The request body of `operation`: all but its name (the path) and the clock (added per call). */
type Body<O extends LoginOperation> = Omit<Extract<LoginRequest, { operation: O }>, 'operation' | 'now'>;

export function createDurableObjectLoginStore(
  namespace: DurableObjectNamespace,
  now: () => number = Date.now,
): LoginStore {
  async function call<O extends LoginOperation>(key: string, operation: O, body: Body<O>) {
    const stub = namespace.get(namespace.idFromName(key));
    // The host is not looked up: a stub's fetch always reaches its object.
    const response = await stub.fetch(`https://login-object/${operation}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, now: now() }),
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new LoginObjectError(`the login object answered ${response.status} to ${operation}`);
    }
    const parsed = LOGIN_ANSWER[operation].safeParse(await response.json());
    if (!parsed.success) throw new LoginObjectError(`the login object's answer to ${operation} is malformed`);
    return parsed.data as LoginAnswer<O>;
  }

  return {
    kind: 'durable-object',
    shared: true,
    async get(key) {
      const { record } = await call(key, 'get', {});
      return record === null ? undefined : (record as LoginRecord);
    },
    async revoke(key, untilMs) {
      await call(key, 'revoke', { untilMs });
    },
    async rotate(key, expected, next, untilMs) {
      const { rotated } = await call(key, 'rotate', { expected: expected ?? null, next, untilMs });
      return rotated;
    },
    async touch(key, atMs, untilMs) {
      await call(key, 'touch', { atMs, untilMs });
    },
    async seenJti(key, untilMs) {
      // Named apart from the logins' objects: a proof's key and a login's are both hashes.
      const { seen } = await call(`dpop:${key}`, 'seenJti', { untilMs });
      return seen;
    },
  };
}
