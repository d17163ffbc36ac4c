/**
 * The third baseline of bench/cpu-per-refresh.ts: the Agent baseline's work (baseline.ts) on the
 * service's own stack, Hono on @hono/node-server with the service's Node upstream client
 * (src/runtimes/node/upstream-client.ts), and nothing else. Between the Agent baseline and this is
 * what the framework costs; between this and the service, what the service's features cost
 * (docs/benchmarks.md, "Where a refresh's CPU goes").
 *
 * Bundled by cpu-per-refresh.ts and run with plain `node`. Env: ACCOUNTS_URL, CLIENT_ID,
 * CLIENT_SECRET. Prints `listening on http://127.0.0.1:PORT` on stderr.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { serviceTokenCall } from './service-upstream.js';

const callUpstream = serviceTokenCall('hono-baseline');
const GRANT_BY_PATH = { '/swap': 'authorization_code', '/refresh': 'refresh_token' } as const;

const app = new Hono();
for (const [path, grantType] of Object.entries(GRANT_BY_PATH)) {
  app.post(path, async (c) => {
    const answer = await callUpstream(`grant_type=${grantType}&${await c.req.text()}`);
    return new Response(answer.body, {
      status: answer.status,
      headers: { 'Content-Type': answer.contentType },
    });
  });
}

serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, ({ port }) => {
  process.stderr.write(`listening on http://127.0.0.1:${port}\n`);
});
// The orchestrator stops its children with SIGTERM: exit through process.exit, so that a CPU
// profile (CPU_PROFILE=1) is written; killed by the signal's default, Node writes none.
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
