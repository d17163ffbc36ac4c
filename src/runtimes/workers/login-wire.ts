/**
 * What the Worker and its login Durable Object (login-object.ts) say to each other: a JSON POST to
 * `/<operation>` on the object's stub, and a JSON answer. The object is the login (its name is the
 * login key), so no request names one. `now` is the caller's clock, as the Redis store's scripts get
 * it (src/runtimes/node/redis/login-store.ts): a record ends at `untilMs` on the service's clock.
 * Both sides check what they read, so that an object of another version fails loudly, not silently.
 */
import * as z from 'zod/mini';
// English messages, as the service's configuration has (a mismatch's message reaches the log).
import '../../server/config/zod-mini.js';

const epochMs = z.number().check(z.int(), z.nonnegative());
const generation = z.number().check(z.int(), z.nonnegative());

export const LOGIN_REQUEST = z.discriminatedUnion('operation', [
  z.object({ operation: z.literal('get'), now: epochMs }),
  z.object({ operation: z.literal('revoke'), now: epochMs, untilMs: epochMs }),
  z.object({
    operation: z.literal('rotate'),
    now: epochMs,
    untilMs: epochMs,
    /** null: no generation recorded yet (JSON has no undefined). */
    expected: z.nullable(generation),
    next: z.object({ generation, rotatedAt: epochMs, answer: z.string() }),
  }),
  z.object({ operation: z.literal('touch'), now: epochMs, untilMs: epochMs, atMs: epochMs }),
  /** A DPoP proof's replay-cache entry: the object is named by the proof's key, not a login's. */
  z.object({ operation: z.literal('seenJti'), now: epochMs, untilMs: epochMs }),
]);

export type LoginRequest = z.infer<typeof LOGIN_REQUEST>;
export type LoginOperation = LoginRequest['operation'];

/** A LoginRecord (src/server/logins/store.ts); fields another version may add are dropped. */
const LOGIN_RECORD = z.object({
  revoked: z.optional(z.literal(true)),
  generation: z.optional(generation),
  rotatedAt: z.optional(epochMs),
  answer: z.optional(z.string()),
  lastUsedAt: z.optional(epochMs),
});

/** The answer to each operation. */
export const LOGIN_ANSWER = {
  get: z.object({ record: z.nullable(LOGIN_RECORD) }),
  revoke: z.object({}),
  rotate: z.object({ rotated: z.boolean() }),
  touch: z.object({}),
  seenJti: z.object({ seen: z.boolean() }),
} as const satisfies Record<LoginOperation, z.ZodMiniType>;

export type LoginAnswer<O extends LoginOperation> = z.infer<(typeof LOGIN_ANSWER)[O]>;
