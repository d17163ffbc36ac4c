/**
 * The sandbox's own control endpoints under /__sandbox. Not part of Spotify's API: they let a test that
 * only has a URL (another process, another runtime) inject faults and read counters.
 */
import type { Hono } from 'hono';
import { FaultError, type FaultQueue, parseFaults } from './faults.js';
import { json } from './http.js';

export interface ControlDeps {
  faults: FaultQueue;
  stats(): unknown;
  reset(): void;
}

export function mountControl(app: Hono, deps: ControlDeps): void {
  app.post('/__sandbox/faults', async (c) => {
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      return json(
        { error: 'invalid_fault', error_description: 'body must be a JSON fault or array of faults' },
        400,
      );
    }
    try {
      deps.faults.push(...parseFaults(body));
    } catch (error) {
      if (error instanceof FaultError) {
        return json({ error: 'invalid_fault', error_description: error.message }, 400);
      }
      throw error;
    }
    return c.body(null, 204);
  });
  app.get('/__sandbox/faults', () => json(deps.faults.pending()));
  app.delete('/__sandbox/faults', (c) => {
    deps.faults.clear();
    return c.body(null, 204);
  });
  app.get('/__sandbox/stats', () => json(deps.stats()));
  app.post('/__sandbox/reset', (c) => {
    deps.reset();
    return c.body(null, 204);
  });
}
