/**
 * prom-client's process metrics are registered at the first scrape, not when the service starts
 * (docs/benchmarks.md, "Start-up"): the first scrape must still show them, and later scrapes must not
 * register them a second time (prom-client throws on a name registered twice).
 */
import { describe, expect, it } from 'vitest';
import { createPromMetrics } from '../src/runtimes/node/metrics.js';

function scrape(metrics: ReturnType<typeof createPromMetrics>) {
  if (!metrics.render) throw new Error('the Node metrics render /metrics');
  return metrics.render();
}

describe('process metrics registered at the first scrape', () => {
  it('are on the first scrape and on every one after it, registered once', async () => {
    const metrics = createPromMetrics();
    expect(await metrics.registry.getMetricsAsJSON()).not.toContainEqual(
      expect.objectContaining({ name: 'token_swap_process_resident_memory_bytes' }),
    );
    for (let round = 0; round < 3; round += 1) {
      const { body } = await scrape(metrics);
      expect(body).toMatch(/^token_swap_process_resident_memory_bytes [1-9]/m);
      expect(body).toMatch(/^token_swap_process_start_time_seconds [1-9]/m);
      expect(body.match(/^# TYPE token_swap_process_resident_memory_bytes /gm)).toHaveLength(1);
    }
  });

  it('stay off when the service is told not to collect them', async () => {
    const { body } = await scrape(createPromMetrics({ defaultMetrics: false }));
    expect(body).not.toContain('token_swap_process_');
    expect(body).toContain('token_swap_build_info');
  });
});
