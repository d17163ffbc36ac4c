/**
 * The few Workers platform APIs this entry uses, typed here rather than with @cloudflare/workers-types:
 * the core type-checks with `types: []` (tsconfig.core.json), and these are all it needs of them.
 * Durable Objects are used in their classic form (a class with `constructor(state, env)` and `fetch`,
 * called through a stub's `fetch`), which needs no `cloudflare:workers` import.
 */

/** Cloudflare's rate limiting binding (docs/deploy/cloudflare-workers.md). */
export interface RateLimitBinding {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

/** What a Durable Object keeps: its own transactional key-value storage, and one alarm. */
export interface DurableObjectStorage {
  get<T>(key: string): Promise<T | undefined>;
  put(key: string, value: unknown): Promise<void>;
  deleteAll(): Promise<void>;
  setAlarm(scheduledTime: number): Promise<void>;
}

/** The `state` a Durable Object's constructor gets. */
export interface DurableObjectState {
  readonly storage: DurableObjectStorage;
  /** Runs `callback` with no other event delivered to the object until it settles. */
  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>;
}

export type DurableObjectId = object;

/** How the Worker reaches an object: by a name, which always names the same object. */
export interface DurableObjectStub {
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

/** A `[[durable_objects.bindings]]` entry of wrangler.toml, as the Worker sees it. */
export interface DurableObjectNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectStub;
}
