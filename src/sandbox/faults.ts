/**
 * Fault injection for the token endpoint: the failures a swap service meets in production (docs/spotify-accounts.md §1:
 * 5xx with plain-text bodies, 429, lost connections), on demand and in order.
 */

export interface SlowFault {
  kind: 'slow';
  /** Wait this long, then answer normally (the request is processed: a code is consumed). */
  delayMs: number;
  count?: number;
}

export interface StatusFault {
  kind: 'status';
  status: number;
  /** Defaults to the plain-text 503 body Spotify's proxy has been seen to send. */
  body?: string;
  /** Defaults to `text/plain`. */
  contentType?: string;
  count?: number;
}

export interface RateLimitFault {
  kind: 'rate-limit';
  /** Sent verbatim as `Retry-After`: seconds, a fraction, or an HTTP date, to test how clients parse it. */
  retryAfter: number | string;
  count?: number;
}

export interface DropFault {
  kind: 'drop';
  count?: number;
}

export interface GarbageFault {
  kind: 'garbage';
  count?: number;
}

export type Fault = SlowFault | StatusFault | RateLimitFault | DropFault | GarbageFault;

/** Seen from Spotify's edge (zmb3/spotify#153). */
export const UPSTREAM_RESET_BODY =
  'upstream connect error or disconnect/reset before headers. reset reason: connection termination';

/** A 200 that promises JSON and breaks off mid-object, as a truncated upstream answer would. */
const GARBAGE_BODY = '{"access_token": "BQ';

export class FaultError extends TypeError {
  override name = 'FaultError';
}

interface Pending {
  fault: Fault;
  remaining: number;
}

/** A FIFO of faults; each applies to its next `count` token requests (default 1). */
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

  /** The fault for the next token request, if any, counting it as used. */
  take(): Fault | undefined {
    const head = this.#queue[0];
    if (!head) {
      return undefined;
    }
    head.remaining -= 1;
    if (head.remaining <= 0) {
      this.#queue.shift();
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

const FAULT_READERS: Record<string, (input: FaultInput) => Fault> = {
  slow: slowFault,
  status: statusFault,
  'rate-limit': rateLimitFault,
  drop: () => ({ kind: 'drop' }),
  garbage: () => ({ kind: 'garbage' }),
};

function parseFault(value: unknown): Fault {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FaultError('a fault must be a JSON object with a "kind"');
  }
  const input = value as FaultInput;
  const count = optionalCount(input.count);
  const read =
    typeof input.kind === 'string' && Object.hasOwn(FAULT_READERS, input.kind)
      ? FAULT_READERS[input.kind]
      : undefined;
  if (!read) throw new FaultError('"kind" must be one of slow, status, rate-limit, drop, garbage');
  const fault = read(input);
  return count === undefined ? fault : { ...fault, count };
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

/** The shape of @hono/node-server's `env`, typed structurally so the core needs no Node types. */
interface NodeBindings {
  incoming?: { socket?: { destroy(): void } | null };
}

/** Lets the HTTP adapter know the answer was already dealt with; @hono/node-server then writes nothing. */
const ALREADY_SENT_HEADER = 'x-hono-already-sent';

export class DroppedConnection extends Error {
  override name = 'DroppedConnection';
}

/**
 * Answers a token request according to `fault`. Returns undefined when the request should then be
 * handled normally (`slow`, after its delay).
 */
export async function applyFault(fault: Fault, env: unknown): Promise<Response | undefined> {
  switch (fault.kind) {
    case 'slow':
      // A plain timer: if the client gives up, the request still completes, as upstream would.
      await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      return undefined;
    case 'status':
      return new Response(fault.body ?? UPSTREAM_RESET_BODY, {
        status: fault.status,
        headers: { 'Content-Type': fault.contentType ?? 'text/plain' },
      });
    case 'rate-limit':
      return new Response(JSON.stringify({ error: { status: 429, message: 'API rate limit exceeded' } }), {
        status: 429,
        headers: { 'Content-Type': 'application/json', 'Retry-After': String(fault.retryAfter) },
      });
    case 'garbage':
      return new Response(GARBAGE_BODY, { status: 200, headers: { 'Content-Type': 'application/json' } });
    case 'drop':
      return drop(env);
  }
}

function drop(env: unknown): Response {
  const socket = (env as NodeBindings | undefined)?.incoming?.socket;
  if (!socket) {
    // No socket to cut on this runtime: an exception escaping the fetch handler is the closest thing.
    throw new DroppedConnection('sandbox: drop fault (no socket to destroy on this runtime)');
  }
  socket.destroy();
  return new Response(null, { headers: { [ALREADY_SENT_HEADER]: 'true' } });
}
