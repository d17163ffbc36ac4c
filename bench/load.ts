/**
 * One load run with autocannon: a fixed number of keep-alive connections, each with one request in
 * flight, for a fixed time, every request carrying its own form body.
 */
import autocannon, { type Client } from 'autocannon';

/** Where the bodies come from. Each connection asks for a body maker once, when it is created. */
export interface BodySource {
  forConnection(slot: number): () => string;
  /** Set when the source ran dry and the run was cut short: its numbers do not count. */
  exhausted: boolean;
  /** Called when the source runs dry. */
  onExhausted?: () => void;
}

/**
 * Each value once, across all connections: authorization codes are single use, so a code sent
 * twice would measure Spotify's `invalid_grant` instead of a swap.
 */
export function eachOnce(values: readonly string[], toBody: (value: string) => string): BodySource {
  let next = 0;
  const source: BodySource = {
    exhausted: false,
    forConnection: () => () => {
      const value = values[next];
      if (value === undefined) {
        if (!source.exhausted) {
          source.exhausted = true;
          source.onExhausted?.();
        }
        // Until the run stops (at the next tick), repeat a spent code: it fails and is counted.
        return toBody(values[values.length - 1] ?? '');
      }
      next += 1;
      return toBody(value);
    },
  };
  return source;
}

/**
 * Disjoint slices, one per connection, each cycled through: no two requests in flight ever carry the
 * same refresh token, so the service's coalescing of identical concurrent refreshes never kicks in,
 * and a token comes round again only after the rest of its slice.
 */
export function slicedPerConnection(
  values: readonly string[],
  connections: number,
  toBody: (value: string) => string,
): BodySource {
  const perSlice = Math.floor(values.length / connections);
  if (perSlice < 1) {
    throw new RangeError(`need at least one value per connection (${values.length} for ${connections})`);
  }
  return {
    exhausted: false,
    forConnection: (slot) => {
      let turn = 0;
      return () => {
        // Slot s owns the values s, s + connections, s + 2 × connections, ...
        const value = values[slot + connections * (turn % perSlice)] ?? '';
        turn += 1;
        return toBody(value);
      };
    },
  };
}

export interface LoadOptions {
  url: string;
  path: string;
  connections: number;
  durationSeconds: number;
  /** A fixed number of requests instead of a time: then `durationSeconds` is not used. */
  amount?: number;
  /** Requests per second, all connections together; undefined: as fast as the target answers. */
  rate?: number;
  bodies: BodySource;
}

/** One autocannon run, raw: merge runs with `summarize`. */
export interface Sample {
  durationSeconds: number;
  /** Every response's latency, with autocannon's float precision (its own histogram keeps whole ms). */
  latenciesMs: Float64Array;
  non2xx: number;
  /** Socket errors and timeouts (autocannon counts timeouts as errors too). */
  socketErrors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** The body source ran dry, so the run was cut short. */
  exhausted: boolean;
}

export interface LoadResult {
  /** Responses per second of elapsed time. */
  requestsPerSecond: number;
  requests: number;
  durationSeconds: number;
  latencyMs: { mean: number; p50: number; p99: number; max: number };
  non2xx: number;
  socketErrors: number;
  timeouts: number;
  /** non2xx + socketErrors: every request that did not end in a 2xx. */
  errors: number;
  statusCodes: Record<string, number>;
  exhausted: boolean;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, fraction: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** A growable list of latencies. */
class Latencies {
  #values = new Float64Array(1 << 16);
  #length = 0;

  add(ms: number): void {
    if (this.#length === this.#values.length) {
      const bigger = new Float64Array(this.#values.length * 2);
      bigger.set(this.#values);
      this.#values = bigger;
    }
    this.#values[this.#length++] = ms;
  }

  values(): Float64Array {
    return this.#values.slice(0, this.#length);
  }
}

/** Merges samples of one target, e.g. the rounds it was measured in, into one result. */
export function summarize(samples: readonly Sample[]): LoadResult {
  const sorted = new Float64Array(samples.reduce((sum, sample) => sum + sample.latenciesMs.length, 0));
  let offset = 0;
  for (const sample of samples) {
    sorted.set(sample.latenciesMs, offset);
    offset += sample.latenciesMs.length;
  }
  sorted.sort();
  const sum = sorted.reduce((total, ms) => total + ms, 0);
  const statusCodes: Record<string, number> = {};
  for (const sample of samples) {
    for (const [status, count] of Object.entries(sample.statusCodes)) {
      statusCodes[status] = (statusCodes[status] ?? 0) + count;
    }
  }
  const total = (pick: (sample: Sample) => number) => samples.reduce((acc, sample) => acc + pick(sample), 0);
  const requests = Object.values(statusCodes).reduce((acc, count) => acc + count, 0);
  const durationSeconds = total((sample) => sample.durationSeconds);
  const non2xx = total((sample) => sample.non2xx);
  const socketErrors = total((sample) => sample.socketErrors);
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    requestsPerSecond: round(requests / durationSeconds),
    requests,
    durationSeconds: round(durationSeconds),
    latencyMs: {
      mean: round(sum / sorted.length),
      p50: round(percentile(sorted, 0.5)),
      p99: round(percentile(sorted, 0.99)),
      max: round(sorted[sorted.length - 1] ?? Number.NaN),
    },
    non2xx,
    socketErrors,
    timeouts: total((sample) => sample.timeouts),
    errors: non2xx + socketErrors,
    statusCodes,
    exhausted: samples.some((sample) => sample.exhausted),
  };
}

export async function load(options: LoadOptions): Promise<Sample> {
  const { bodies } = options;
  const request = { method: 'POST', path: options.path };
  const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
  let slots = 0;
  const latencies = new Latencies();

  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    ...(options.amount === undefined ? {} : { amount: options.amount }),
    pipelining: 1,
    ...(options.rate === undefined ? {} : { overallRate: options.rate }),
    // The service ends a keep-alive connection after 10,000 requests (`maxRequestsPerSocket`) and
    // answers 503 to anything sent on it after that; autocannon ignores `Connection: close`, so it
    // reconnects by itself well before. A handshake per 5,000 requests costs next to nothing.
    reconnectRate: 5_000,
    headers,
    ...request,
    setupClient(client: Client) {
      const nextBody = bodies.forConnection(slots++);
      client.setRequests([{ ...request, headers, setupRequest: (req) => ({ ...req, body: nextBody() }) }]);
    },
  });
  bodies.onExhausted = () => instance.stop();
  instance.on('response', (_client: Client, _status: number, _bytes: number, responseTimeMs: number) => {
    latencies.add(responseTimeMs);
  });
  const result = await instance;

  return {
    durationSeconds: result.duration,
    latenciesMs: latencies.values(),
    non2xx: result.non2xx,
    socketErrors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count]),
    ),
    exhausted: bodies.exhausted,
  };
}
