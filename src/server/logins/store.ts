/**
 * Where the service keeps what it must remember about a login (one family of refresh tokens, from the
 * code exchange on): that it was revoked, which generation of its token is the newest, the answer its
 * predecessor's first use got, and when it was last used. A sealed token carries everything else, so
 * a store holds a few small records, each kept only until its login would have ended anyway.
 *
 * Runtimes bring the store they can keep: in memory (one process), Redis (every replica, across
 * restarts: src/runtimes/node/redis/login-store.ts), a Durable Object (Workers). Records are named by
 * `loginKey` (logins/key.ts), a hash: the store never sees a token or a family id.
 */

export interface LoginRecord {
  /** Set once the login was revoked (`POST /revoke`, or reuse detected): no token of it works again. */
  readonly revoked?: true;
  /** The newest generation handed out, with rotation; absent until the first rotation. */
  readonly generation?: number;
  /** When that generation was handed out (epoch ms): the start of its predecessor's grace. */
  readonly rotatedAt?: number;
  /**
   * The answer the predecessor's first use got, encrypted for the holders of that predecessor
   * (logins/replay.ts): replayed to it within the grace.
   */
  readonly answer?: string;
  /** The last refresh (epoch ms), for the idle limit. */
  readonly lastUsedAt?: number;
}

/** What a successful rotation writes: the new newest generation and the answer it got. */
export interface Rotation {
  readonly generation: number;
  readonly rotatedAt: number;
  readonly answer: string;
}

export interface LoginStore {
  /** For the start-up log line and `/readyz`: `memory`, `redis`, `durable-object`. */
  readonly kind: string;
  /** Shared by every replica and kept across restarts (false: this process only). */
  readonly shared: boolean;
  get(key: string): Promise<LoginRecord | undefined>;
  /** Marks the login revoked, kept until `untilMs` (epoch ms). Idempotent. */
  revoke(key: string, untilMs: number): Promise<void>;
  /**
   * Records a rotation if the newest generation is still `expected` (undefined: none recorded yet)
   * and the login is not revoked; `false` when another refresh got there first, or it was revoked.
   */
  rotate(key: string, expected: number | undefined, next: Rotation, untilMs: number): Promise<boolean>;
  /** Records a refresh at `atMs`, for the idle limit (a later time only: never moves back). */
  touch(key: string, atMs: number, untilMs: number): Promise<void>;
  /**
   * The replay cache of DPoP proofs (endpoints/dpop.ts): records `key` until `untilMs` if it is not
   * recorded yet, in one step; `true` when it already was (the proof is a replay). `key` is a hash.
   */
  seenJti(key: string, untilMs: number): Promise<boolean>;
}

/**
 * Records an in-memory store keeps at most: a few hundred bytes each, so 100 000 are some tens of MB.
 * Past it, the least recently written go first (a write moves a record to the end of the Map's order):
 * a forgotten record is the price of a bounded process, and the start-up log says that a memory store
 * is for one process.
 */
export const MEMORY_STORE_MAX_RECORDS = 100_000;

/**
 * DPoP proofs the memory store remembers at most: a proof is remembered for about a minute, so this
 * holds some 1 600 proofs a second. Past it, the oldest is forgotten first, and could be replayed
 * within the rest of its minute: the price of a bounded process, as for the records above.
 */
export const MEMORY_STORE_MAX_PROOFS = 100_000;

interface Held {
  record: LoginRecord;
  untilMs: number;
}

/** One process's store: what Node without REDIS_URL, Deno and Bun use. `now` is injectable for tests. */
export function createMemoryLoginStore(
  options: { now?: () => number; maxRecords?: number; maxProofs?: number } = {},
): LoginStore {
  const now = options.now ?? Date.now;
  const max = options.maxRecords ?? MEMORY_STORE_MAX_RECORDS;
  const maxProofs = options.maxProofs ?? MEMORY_STORE_MAX_PROOFS;
  const records = new Map<string, Held>();
  /** Proof key → until when; in insertion order, which is also the order they end in, give or take a few seconds. */
  const proofs = new Map<string, number>();

  const live = (key: string): Held | undefined => {
    const held = records.get(key);
    if (held && held.untilMs <= now()) {
      records.delete(key);
      return undefined;
    }
    return held;
  };
  const put = (key: string, record: LoginRecord, untilMs: number) => {
    const previous = records.get(key);
    records.delete(key);
    records.set(key, { record, untilMs: Math.max(untilMs, previous?.untilMs ?? 0) });
    while (records.size > max) {
      const oldest = records.keys().next().value;
      if (oldest === undefined) break;
      records.delete(oldest);
    }
  };

  return {
    kind: 'memory',
    shared: false,
    async get(key) {
      return live(key)?.record;
    },
    async revoke(key, untilMs) {
      put(key, { ...live(key)?.record, revoked: true }, untilMs);
    },
    async rotate(key, expected, next, untilMs) {
      const record = live(key)?.record;
      if (record?.revoked || record?.generation !== expected) return false;
      put(key, { ...record, ...next, lastUsedAt: next.rotatedAt }, untilMs);
      return true;
    },
    async touch(key, atMs, untilMs) {
      const record = live(key)?.record;
      if ((record?.lastUsedAt ?? 0) >= atMs) return;
      put(key, { ...record, lastUsedAt: atMs }, untilMs);
    },
    async seenJti(key, untilMs) {
      const at = now();
      const until = proofs.get(key);
      if (until !== undefined && until > at) return true;
      proofs.delete(key);
      // Ended ones go from the front; past the bound, the oldest too.
      for (const [oldest, end] of proofs) {
        if (end > at && proofs.size < maxProofs) break;
        proofs.delete(oldest);
      }
      proofs.set(key, untilMs);
      return false;
    },
  };
}

/** The start-up log line that says where revocations are kept, so that an operator knows what they hold. */
export function loginStoreNotice(store: LoginStore | undefined): { level: 'info' | 'warn'; message: string } {
  if (!store) {
    return {
      level: 'warn',
      message:
        'no login store on this runtime: POST /revoke answers 501, refresh-token rotation is off, and DPoP proofs are refused (no replay cache)',
    };
  }
  if (!store.shared) {
    return {
      level: 'warn',
      message:
        'revocations and rotations are kept in this process’s memory: they hold for this process only, until it restarts (set REDIS_URL to share them)',
    };
  }
  return {
    level: 'info',
    message: `revocations and rotations are kept in ${store.kind}, shared by every replica`,
  };
}
