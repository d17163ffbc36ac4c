/**
 * Refresh coalescing: concurrent identical refreshes share one upstream call and all get the same
 * answer (single flight). A shared implementation (Redis) extends this across replicas.
 */

import type { Answer } from './answer.js';

/** An answer as it goes on the wire, so that every waiter can be given exactly the same one. */
export type SharedAnswer = Answer;

export interface CoalesceKey {
  /** Identifies the request within this process (it holds the secret: never store or log it). */
  local: string;
  /** A digest that identifies the request, safe to store; computed only by shared stores. */
  digest(): Promise<string>;
  /** The secret the request carried (the refresh token): a shared store encrypts the answer with it. */
  secret: string;
}

export interface Coalescer {
  /**
   * Runs `produce` once for all concurrent callers with the same key id. `onShared` tells a caller
   * that its answer came from another request's call.
   */
  run(
    key: CoalesceKey,
    produce: () => Promise<SharedAnswer>,
    onShared?: (scope: 'local' | 'shared') => void,
  ): Promise<SharedAnswer>;
}

export function createLocalCoalescer(): Coalescer {
  const inFlight = new Map<string, Promise<SharedAnswer>>();
  return {
    run(key, produce, onShared) {
      const running = inFlight.get(key.local);
      if (running !== undefined) {
        onShared?.('local');
        return running;
      }
      const started = produce();
      // Forgotten before any waiter resumes (the first reaction registered runs first); `then`, not
      // `finally`, which would chain three more promises onto every refresh.
      const forget = () => {
        inFlight.delete(key.local);
      };
      started.then(forget, forget);
      inFlight.set(key.local, started);
      return started;
    },
  };
}
