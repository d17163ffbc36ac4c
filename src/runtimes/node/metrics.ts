/** The Metrics seam backed by prom-client, one registry per service (so tests can run several). */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Metrics } from '../../server/metrics.js';
import type { BreakerState } from '../../server/upstream/breaker.js';
import { createLoginMetrics } from './login-metrics.js';
import { children } from './metric-children.js';
import { VERSION } from './server.js';

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

export function createPromMetrics(
  options: { defaultMetrics?: boolean; version?: string } = {},
): Metrics & { registry: Registry } {
  const registry = new Registry();
  // prom-client's process metrics are registered at the first scrape, not before the service's first
  // answer, where they were a part of its start-up CPU (docs/benchmarks.md, "Start-up"). What they
  // report is read from the process at each scrape (CPU, memory, handles, start time), so the first
  // scrape shows the same; only the GC and event-loop-delay histograms count from then on.
  let defaultMetrics = options.defaultMetrics ?? true;
  const withDefaultMetrics = () => {
    if (!defaultMetrics) return;
    defaultMetrics = false;
    collectDefaultMetrics({ register: registry, prefix: 'token_swap_' });
  };
  const registers = [registry];

  // Prometheus' convention for what is running: a constant 1, the facts in its labels, so a dashboard
  // can show them and join them onto other series.
  new Gauge({
    name: 'token_swap_build_info',
    help: 'The running build: the service version and the Node.js version, as labels; always 1',
    labelNames: ['version', 'node'] as const,
    registers,
  }).set({ version: options.version ?? VERSION, node: process.versions.node }, 1);

  const requests = new Counter({
    name: 'token_swap_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers,
  });
  const requestDuration = new Histogram({
    name: 'token_swap_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route pattern',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const upstream = new Counter({
    name: 'token_swap_upstream_requests_total',
    help: 'Calls to the Spotify Accounts token endpoint, by grant and outcome',
    labelNames: ['grant', 'outcome'] as const,
    registers,
  });
  const upstreamDuration = new Histogram({
    name: 'token_swap_upstream_request_duration_seconds',
    help: 'Duration of calls to the Spotify Accounts token endpoint, by grant',
    labelNames: ['grant'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const retries = new Counter({
    name: 'token_swap_upstream_retries_total',
    help: 'Calls to Spotify retried, by grant',
    labelNames: ['grant'] as const,
    registers,
  });
  const coalesced = new Counter({
    name: 'token_swap_refresh_coalesced_total',
    help: 'Refreshes answered by another identical request’s upstream call (local: same process; shared: via Redis)',
    labelNames: ['scope'] as const,
    registers,
  });
  const breaker = new Gauge({
    name: 'token_swap_circuit_breaker_state',
    help: 'Circuit breaker in front of each Spotify Accounts upstream: 0 closed, 1 half-open, 2 open',
    labelNames: ['upstream'] as const,
    registers,
  });
  const rateLimited = new Counter({
    name: 'token_swap_rate_limited_total',
    help: 'Requests refused by the per-address rate limit, by policy',
    labelNames: ['policy'] as const,
    registers,
  });
  const capacity = new Counter({
    name: 'token_swap_capacity_rejected_total',
    help: 'Requests refused because too many calls to Spotify were in flight',
    registers,
  });
  const sharedStore = new Gauge({
    name: 'token_swap_shared_store_up',
    help: 'Whether the shared store (Redis) answers: 1 up, 0 down (absent without REDIS_URL)',
    registers,
  });

  const requestCount = children(([route = '', method = '', status = '']) =>
    requests.labels({ route, method, status }),
  );
  const requestTime = children(([route = '']) => requestDuration.labels({ route }));
  const upstreamCount = children(([grant = '', outcome = '']) => upstream.labels({ grant, outcome }));
  const upstreamTime = children(([grant = '']) => upstreamDuration.labels({ grant }));

  return {
    registry,
    request(route, method, status, seconds) {
      requestCount(route, method, String(status)).inc();
      requestTime(route).observe(seconds);
    },
    upstream(grant, outcome, seconds) {
      upstreamCount(grant, outcome).inc();
      upstreamTime(grant).observe(seconds);
    },
    retry: (grant) => retries.inc({ grant }),
    coalesced: (scope) => coalesced.inc({ scope }),
    breakerState: (upstream, state) => breaker.set({ upstream }, BREAKER_VALUE[state]),
    rateLimited: (policy) => rateLimited.inc({ policy }),
    ...createLoginMetrics(registry),
    capacityRejected: () => capacity.inc(),
    sharedStoreUp: (up) => sharedStore.set(up ? 1 : 0),
    async render() {
      withDefaultMetrics();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
