/**
 * Fault injection for the token endpoint and the sandbox's Web API (`/v1/me` and the others): the
 * failures an app and a swap service meet in production (docs/spotify-accounts.md §1: 5xx with
 * plain-text bodies, 429, lost connections; §6: a 429 with `"reason": "QUOTA_EXCEEDED"`), on demand
 * and in order.
 */

/** Which endpoint a fault answers for: the token endpoint (the default), or any of the sandbox's Web API endpoints. */
export type FaultTarget = 'token' | 'web-api';

interface FaultOptions {
  /** How many requests it answers; default 1. */
  count?: number;
  target?: FaultTarget;
}

export interface SlowFault extends FaultOptions {
  kind: 'slow';
  /** Wait this long, then answer normally (the request is processed: a code is consumed). */
  delayMs: number;
}

export interface StatusFault extends FaultOptions {
  kind: 'status';
  status: number;
  /** Defaults to the plain-text 503 body Spotify's proxy has been seen to send. */
  body?: string;
  /** Defaults to `text/plain`. */
  contentType?: string;
}

export interface RateLimitFault extends FaultOptions {
  kind: 'rate-limit';
  /** Sent verbatim as `Retry-After`: seconds, a fraction, or an HTTP date, to test how clients parse it. */
  retryAfter: number | string;
  /** The Web API error's `reason`, e.g. `QUOTA_EXCEEDED` (docs/spotify-accounts.md §6); none by default. */
  reason?: string;
}

export interface DropFault extends FaultOptions {
  kind: 'drop';
}

export interface GarbageFault extends FaultOptions {
  kind: 'garbage';
}

export type Fault = SlowFault | StatusFault | RateLimitFault | DropFault | GarbageFault;

/** Seen from Spotify's edge (zmb3/spotify#153). */
export const UPSTREAM_RESET_BODY =
  'upstream connect error or disconnect/reset before headers. reset reason: connection termination';

/** A 200 that promises JSON and breaks off mid-object, as a truncated upstream answer would. */
export const GARBAGE_BODY = '{"access_token": "BQ';

export class FaultError extends TypeError {
  override name = 'FaultError';
}

interface Pending {
  fault: Fault;
  remaining: number;
}

/** A FIFO of faults; each applies to the next `count` requests to its target (default 1). */
export class FaultQueue {
  #queue: Pending[] = [];

  /** Validates every fault first, so a bad one leaves the queue untouched. Throws FaultError. */
  push(...faults: Fault[]): void {
    const checked = faults.map((fault) => parseFault(fault));
    for (const fault of checked) {
      this.#queue.push({ fault, remaining: fault.count ?? 1 });
    }
  }

  clear(): void {
    this.#queue = [];
  }

  /** The fault for the next request to `target`, if any, counting it as used. */
  take(target: FaultTarget = 'token'): Fault | undefined {
    const index = this.#queue.findIndex(({ fault }) => (fault.target ?? 'token') === target);
    const head = this.#queue[index];
    if (!head) {
      return undefined;
    }
    head.remaining -= 1;
    if (head.remaining <= 0) {
      this.#queue.splice(index, 1);
    }
    return head.fault;
  }

  /** What is still queued, with `count` set to the uses left. */
  pending(): Fault[] {
    return this.#queue.map(({ fault, remaining }) => ({ ...fault, count: remaining }));
  }

  get size(): number {
    return this.#queue.length;
  }
}

/** Accepts one fault or an array of them, as sent to the HTTP control endpoint. Throws FaultError. */
export function parseFaults(value: unknown): Fault[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => parseFault(item));
}

type FaultInput = Record<string, unknown>;

function slowFault(input: FaultInput): SlowFault {
  const delayMs = input.delayMs;
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
    throw new FaultError('slow: "delayMs" must be a number of milliseconds >= 0');
  }
  return { kind: 'slow', delayMs };
}

function statusFault(input: FaultInput): StatusFault {
  const status = input.status;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
    throw new FaultError('status: "status" must be an integer from 200 to 599');
  }
  const fault: StatusFault = { kind: 'status', status };
  if (input.body !== undefined) {
    fault.body = requireString(input.body, 'status: "body"');
  }
  if (input.contentType !== undefined) {
    fault.contentType = requireHeaderValue(input.contentType, 'status: "contentType"');
  }
  return fault;
}

function rateLimitFault(input: FaultInput): RateLimitFault {
  const retryAfter = input.retryAfter;
  if (typeof retryAfter !== 'number') {
    return { kind: 'rate-limit', retryAfter: requireHeaderValue(retryAfter, 'rate-limit: "retryAfter"') };
  }
  if (!Number.isFinite(retryAfter)) {
    throw new FaultError('rate-limit: "retryAfter" must be finite');
  }
  return { kind: 'rate-limit', retryAfter };
}

/** Spotify's reasons are upper-case identifiers (`QUOTA_EXCEEDED`, `PREMIUM_REQUIRED`). */
function withReason(fault: RateLimitFault, reason: unknown): RateLimitFault {
  if (reason === undefined) return fault;
  if (typeof reason !== 'string' || !/^[A-Z][A-Z0-9_]{0,63}$/.test(reason)) {
    throw new FaultError('rate-limit: "reason" must be an upper-case identifier such as QUOTA_EXCEEDED');
  }
  return { ...fault, reason };
}

const FAULT_READERS: Record<string, (input: FaultInput) => Fault> = {
  slow: slowFault,
  status: statusFault,
  'rate-limit': (input) => withReason(rateLimitFault(input), input.reason),
  drop: () => ({ kind: 'drop' }),
  garbage: () => ({ kind: 'garbage' }),
};

function parseFault(value: unknown): Fault {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FaultError('a fault must be a JSON object with a "kind"');
  }
  const input = value as FaultInput;
  const count = optionalCount(input.count);
  const target = input.target;
  if (target !== undefined && target !== 'token' && target !== 'web-api') {
    throw new FaultError('"target" must be token or web-api');
  }
  const read =
    typeof input.kind === 'string' && Object.hasOwn(FAULT_READERS, input.kind)
      ? FAULT_READERS[input.kind]
      : undefined;
  if (!read) throw new FaultError('"kind" must be one of slow, status, rate-limit, drop, garbage');
  const fault = read(input);
  return { ...fault, ...(count === undefined ? {} : { count }), ...(target === undefined ? {} : { target }) };
}

function optionalCount(value: unknown): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new FaultError('"count" must be an integer >= 1');
  }
  return value;
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string') {
    throw new FaultError(`${what} must be a string`);
  }
  return value;
}

/** Checked here, because an invalid header value would otherwise fail only when the fault fires. */
function requireHeaderValue(value: unknown, what: string): string {
  const text = requireString(value, what);
  if (!/^[\t\x20-\x7e]+$/.test(text)) {
    throw new FaultError(`${what} must be non-empty printable ASCII`);
  }
  return text;
}
