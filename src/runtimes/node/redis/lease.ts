/**
 * The lock that makes one replica the caller of Spotify for one refresh token, as a lease: taken
 * with a value of its own per attempt (`owner`), kept short and renewed while its owner produces,
 * renewed and released only by a script that first checks that value.
 *
 * Why a short renewed lease rather than one TTL as long as a whole refresh: a `SET` that timed out
 * on this side (COMMAND_TIMEOUT_MS) may still run on the server, and an owner may crash. Either way
 * nobody releases that lock, and every other replica's refresh of the token would wait out its
 * TTL. A lease dies `leaseMs` after its last renewal instead, and the value check keeps a late
 * renewal or release from touching a lock that has since passed to another owner.
 */
import type { Redis } from 'ioredis';
import { COMMAND_TIMEOUT_MS, type RedisConnection } from './connection.js';

export interface LeaseTimings {
  /** How long a lock lives past its last renewal: how long a dead owner can hold others up. */
  leaseMs: number;
  /** Pause between the end of one renewal and the start of the next. */
  renewEveryMs: number;
}

/**
 * A renewal that times out (COMMAND_TIMEOUT_MS) still leaves time for the next one to land before
 * the lease runs out: 500 + 500 + 500 ms plus a round trip fits in 2 s.
 */
export const DEFAULT_LEASE_TIMINGS: LeaseTimings = {
  leaseMs: 4 * COMMAND_TIMEOUT_MS,
  renewEveryMs: COMMAND_TIMEOUT_MS,
};

const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

type LeaseCommands = {
  tokenSwapRenew(key: string, owner: string, leaseMs: number): Promise<number>;
  tokenSwapRelease(key: string, owner: string): Promise<number>;
};

/** A lock this attempt holds, or may hold without knowing it. */
export interface Lease {
  /** Stops the renewals and deletes the lock if `owner` still holds it. Never rejects. */
  release(): Promise<void>;
}

export interface LeaseLock {
  /** `SET NX PX leaseMs`: whether `owner` now holds `key`. Rejects when Redis fails. */
  acquire(key: string, owner: string): Promise<boolean>;
  /** Renews `key` for as long as `owner` holds it, until released. */
  hold(key: string, owner: string): Lease;
  /** Deletes `key` if `owner` holds it. Never rejects. */
  release(key: string, owner: string): Promise<void>;
}

export function createLeaseLock({ client, report }: RedisConnection, timings: LeaseTimings): LeaseLock {
  client.defineCommand('tokenSwapRenew', { numberOfKeys: 1, lua: RENEW_SCRIPT });
  client.defineCommand('tokenSwapRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
  const redis = client as Redis & LeaseCommands;

  async function release(key: string, owner: string): Promise<void> {
    try {
      await redis.tokenSwapRelease(key, owner);
    } catch (error) {
      report(false, error);
    }
  }

  return {
    async acquire(key, owner) {
      return (await redis.set(key, owner, 'PX', timings.leaseMs, 'NX')) === 'OK';
    },

    hold(key, owner) {
      let released = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const renew = async () => {
        try {
          // 0: the lock is not ours (a SET that never ran, or a lease lost to a long stall). Another
          // owner may hold it now; ours is not coming back, so renewing stops.
          if ((await redis.tokenSwapRenew(key, owner, timings.leaseMs)) === 0) return;
        } catch (error) {
          report(false, error);
        }
        if (!released) timer = setTimeout(renew, timings.renewEveryMs);
      };
      timer = setTimeout(renew, timings.renewEveryMs);
      return {
        release() {
          released = true;
          clearTimeout(timer);
          return release(key, owner);
        },
      };
    },

    release,
  };
}
