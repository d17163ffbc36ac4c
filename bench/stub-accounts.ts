/**
 * A token endpoint that costs next to nothing, for `BENCH_UPSTREAM=stub`: with the sandbox as the
 * upstream (a faithful fake that checks and stores every grant), the sandbox spends more CPU per
 * request than the baseline proxy does, so on two cores it bounds every target's throughput and the
 * throughput ratio hides the service's own cost (docs/benchmarks.md, "Node: the cost per request").
 * This one answers every POST /api/token at once, and mints codes and refresh tokens as counters.
 *
 * Node built-ins only, transpiled and run with plain `node` like baseline.ts. Prints
 * `listening on http://127.0.0.1:PORT` on stderr.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let minted = 0;
const next = (prefix: string) => `${prefix}-${(minted++).toString(36)}-${'x'.repeat(40)}`;
const ACCESS_TOKEN = `BQ${'a'.repeat(160)}`;

function tokenAnswer(body: string): string {
  const answer: Record<string, unknown> = {
    access_token: ACCESS_TOKEN,
    token_type: 'Bearer',
    expires_in: 3600,
    scope: 'user-read-email user-read-private',
  };
  // A code exchange gets a refresh token of its own (the service seals it); a refresh keeps it.
  if (body.includes('grant_type=authorization_code')) answer.refresh_token = next('rt');
  return JSON.stringify(answer);
}

function mintAnswer(body: string): string {
  const request = JSON.parse(body) as { codes?: number; refreshTokens?: number };
  const many = (count: number | undefined, prefix: string) =>
    Array.from({ length: Math.min(count ?? 0, 100_000) }, () => next(prefix));
  return JSON.stringify({
    codes: many(request.codes, 'code'),
    refreshTokens: many(request.refreshTokens, 'rt'),
  });
}

const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => {
    body += chunk;
  });
  req.on('end', () => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (req.method === 'POST' && path === '/api/token') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(tokenAnswer(body));
    } else if (req.method === 'POST' && path === '/__sandbox/mint') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(mintAnswer(body));
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"not_found"}');
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stderr.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
