/**
 * The Node metrics look each label set's prom-client child up once (src/runtimes/node/metric-children.ts):
 * the counts must be what a lookup per call gave, past the cache's bound too.
 */
import { describe, expect, it } from 'vitest';
import { createPromMetrics } from '../src/runtimes/node/metrics.js';

function countOf(body: string, labels: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`token_swap_http_requests_total{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('cached prom-client children', () => {
  it('count every request, for the first label sets and for those past the bound alike', async () => {
    const metrics = createPromMetrics({ defaultMetrics: false });
    for (let method = 0; method < 1_200; method++) metrics.request('/refresh', `M${method}`, 200, 0.001);
    metrics.request('/refresh', 'POST', 200, 0.001);
    metrics.request('/refresh', 'POST', 200, 0.001);
    metrics.request('/refresh', 'M1199', 200, 0.001);
    metrics.request('/refresh', 'M0', 200, 0.001);
    const { body } = (await metrics.render?.()) ?? { body: '' };
    expect(countOf(body, 'route="/refresh",method="POST",status="200"')).toBe(2);
    expect(countOf(body, 'route="/refresh",method="M0",status="200"')).toBe(2);
    expect(countOf(body, 'route="/refresh",method="M1199",status="200"')).toBe(2);
    expect(body).toContain('token_swap_http_request_duration_seconds_count{route="/refresh"} 1204');
  });
});
