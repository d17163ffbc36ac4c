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

  return {
    get inFlight() {
      return inFlight;
    },
    get waiting() {
      return queue.length;
    },
    acquire() {
      if (inFlight < options.maxConcurrent) {
        inFlight += 1;
        return Promise.resolve(once());
      }
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
