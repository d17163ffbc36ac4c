/**
 * A cap on concurrent calls to Spotify with a bounded, first-come wait. Past the cap a caller waits
 * at most `queueTimeoutMs` for a slot (and only while fewer than `maxQueue` wait), then gets a 503
 * with Retry-After: a burst degrades into quick, honest refusals instead of a pile of timeouts.
 */
import { temporarilyUnavailable } from '../errors.js';

export interface ConcurrencyOptions {
  maxConcurrent: number;
  queueTimeoutMs: number;
  /** Default 4 × maxConcurrent. */
  maxQueue?: number;
}

export type Release = () => void;

export interface ConcurrencyLimiter {
  /** A slot now, or undefined when every slot is taken: the common case costs no promise. */
  tryAcquire(): Release | undefined;
  /** A slot, now or after a wait in the queue; rejects with a 503 when none comes in time. */
  acquire(): Promise<Release>;
  readonly inFlight: number;
  readonly waiting: number;
}

const atCapacity = () => temporarilyUnavailable('The service is at capacity; retry after 1 second', 1);

export function createConcurrencyLimiter(options: ConcurrencyOptions): ConcurrencyLimiter {
  const maxQueue = options.maxQueue ?? options.maxConcurrent * 4;
  let inFlight = 0;
  const queue: { grant: () => void; timer: ReturnType<typeof setTimeout> }[] = [];

  const release: Release = () => {
    const next = queue.shift();
    if (next) {
      clearTimeout(next.timer);
      next.grant();
    } else {
      inFlight -= 1;
    }
  };

  const once = (): Release => {
    let released = false;
    return () => {
      if (!released) {
        released = true;
        release();
      }
    };
  };

  const tryAcquire = (): Release | undefined => {
    if (inFlight >= options.maxConcurrent) return undefined;
    inFlight += 1;
    return once();
  };

  return {
    get inFlight() {
      return inFlight;
    },
    get waiting() {
      return queue.length;
    },
    tryAcquire,
    acquire() {
      const now = tryAcquire();
      if (now !== undefined) return Promise.resolve(now);
      if (queue.length >= maxQueue) {
        return Promise.reject(atCapacity());
      }
      return new Promise<Release>((resolve, reject) => {
        const entry = {
          // The slot passes straight from the releasing caller to this one: inFlight stays the same.
          grant: () => resolve(once()),
          timer: setTimeout(() => {
            queue.splice(queue.indexOf(entry), 1);
            reject(atCapacity());
          }, options.queueTimeoutMs),
        };
        queue.push(entry);
      });
    },
  };
}
