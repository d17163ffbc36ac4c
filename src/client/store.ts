/** Where a login is kept between runs. */
import type { DpopKey } from './dpop.js';
import type { TokenSet } from './token-set.js';

/** A login: the tokens plus what is needed to refresh them later. */
export interface StoredLogin {
  /** The swap service that issued the tokens, and that refreshes them. */
  swapUrl: string;
  clientId?: string;
  /** Spotify Web API base URL (the sandbox's when testing). */
  apiUrl?: string;
  tokens: TokenSet;
  /**
   * The DPoP key the login was made with (RFC 9449): its refresh token refreshes and revokes only
   * with a proof by this key. Absent for a login without DPoP (and every login stored before it).
   */
  dpopKey?: DpopKey;
}

/** Releases a lock taken with `TokenStore.lock`. */
export type ReleaseLock = () => Promise<void>;

export interface TokenStore {
  load(): Promise<StoredLogin | undefined>;
  save(login: StoredLogin): Promise<void>;
  clear(): Promise<void>;
  /**
   * Optional exclusive lock across every process sharing the store, held while one of them
   * refreshes, so that a rotated refresh token is never used twice.
   */
  lock?(): Promise<ReleaseLock>;
}

/** Keeps the login in memory: for tests, and for apps that persist elsewhere. */
export function createMemoryStore(initial?: StoredLogin): TokenStore {
  let current = initial ? structuredClone(initial) : undefined;
  return {
    async load() {
      return current ? structuredClone(current) : undefined;
    },
    async save(login) {
      current = structuredClone(login);
    },
    async clear() {
      current = undefined;
    },
  };
}
