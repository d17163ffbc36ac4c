/**
 * The slice of autocannon's programmatic API the benchmark uses (autocannon ships no types, and
 * @types/autocannon is not a dependency of this project).
 */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  export interface Request {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    /** Called before each request on a connection; returns the request to send. */
    setupRequest?: (request: Request, context: Record<string, unknown>) => Request;
  }

  /** One connection. */
  export interface Client extends EventEmitter {
    setRequests(requests: Request[]): void;
  }

  export interface Options {
    url: string;
    connections?: number;
    /** Seconds. */
    duration?: number;
    /** Requests over all connections together, after which the run ends; `duration` is then ignored. */
    amount?: number;
    /** Seconds to wait for a response before counting a timeout. */
    timeout?: number;
    pipelining?: number;
    /** Requests per second over all connections together. */
    overallRate?: number;
    /** Requests after which each connection is closed and opened again. */
    reconnectRate?: number;
    method?: string;
    headers?: Record<string, string>;
    requests?: Request[];
    /** Called once per connection, as it is created. */
    setupClient?: (client: Client) => void;
  }

  export interface Result {
    /** Socket errors, timeouts included. */
    errors: number;
    timeouts: number;
    non2xx: number;
    /** Seconds, actually elapsed. */
    duration: number;
    statusCodeStats: Record<string, { count: number }>;
  }

  export interface Instance extends EventEmitter, PromiseLike<Result> {
    /** Ends the run at the next one-second tick. */
    stop(): void;
  }

  export default function autocannon(options: Options): Instance;
}
