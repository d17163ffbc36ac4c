/**
 * The fourth baseline of bench/cpu-per-refresh.ts (`CPU_CLIENT_BASELINE=1`): the Agent baseline's
 * server (baseline.ts: plain `node:http`, no framework) with the service's Node upstream client
 * (src/runtimes/node/upstream-client.ts) in place of its bare `http.request`. Between the Agent
 * baseline and this is what the upstream client costs; between this and the Hono baseline
 * (hono-baseline.ts), what Hono and @hono/node-server's Web Request/Response cost
 * (docs/benchmarks.md, "Where a refresh's CPU goes").
 *
 * Bundled by cpu-per-refresh.ts and run with plain `node`. Env: ACCOUNTS_URL, CLIENT_ID,
 * CLIENT_SECRET. Prints `listening on http://127.0.0.1:PORT` on stderr.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serviceTokenCall } from './service-upstream.js';

const callUpstream = serviceTokenCall('client-baseline');
const GRANT_BY_PATH: Record<string, string> = { '/swap': 'authorization_code', '/refresh': 'refresh_token' };

// As baseline.ts's server, line for line, but for the upstream call.
const server = createServer(async (req, res) => {
  const grantType = req.method === 'POST' && req.url !== undefined ? GRANT_BY_PATH[req.url] : undefined;
  if (grantType === undefined) {
    res.writeHead(404).end();
    return;
  }
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const upstream = await callUpstream(`grant_type=${grantType}&${Buffer.concat(chunks).toString()}`);
    res.writeHead(upstream.status, { 'Content-Type': upstream.contentType }).end(upstream.body);
  } catch {
    res.writeHead(502).end();
  }
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stderr.write(`listening on http://127.0.0.1:${port}\n`);
});
// The orchestrator stops its children with SIGTERM: exit through process.exit, so that a CPU
// profile (CPU_PROFILE=1) is written; killed by the signal's default, Node writes none.
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
