/**
 * prom-client's process metrics are registered at the first scrape, not when the service starts
 * (docs/benchmarks.md, "Start-up"): the first scrape must still show them, and later scrapes must not
 * register them a second time (prom-client throws on a name registered twice).
 */
import { describe, expect, it } from 'vitest';
import { createPromMetrics } from '../src/runtimes/node/metrics.js';

describe('process metrics registered at the first scrape', () => {
  it('are on the first scrape and on every one after it, registered once', async () => {
    const metrics = createPromMetrics();
    expect(await metrics.registry.getMetricsAsJSON()).not.toContainEqual(
      expect.objectContaining({ name: 'token_swap_process_resident_memory_bytes' }),
    );
    for (let scrape = 0; scrape < 3; scrape += 1) {
      const { body } = await metrics.render();
      expect(body).toMatch(/^token_swap_process_resident_memory_bytes [1-9]/m);
      expect(body).toMatch(/^token_swap_process_start_time_seconds [1-9]/m);
      expect(body.match(/^# TYPE token_swap_process_resident_memory_bytes /gm)).toHaveLength(1);
    }
  });

  it('stay off when the service is told not to collect them', async () => {
    const { body } = await createPromMetrics({ defaultMetrics: false }).render();
    expect(body).not.toContain('token_swap_process_');
    expect(body).toContain('token_swap_build_info');
  });
});
