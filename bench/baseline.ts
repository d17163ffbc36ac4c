/**
 * The benchmark's baseline: the least a swap service can do. It prepends the grant type to the
 * client's form body, forwards it to the token endpoint with Basic auth over keep-alive `fetch`,
 * and writes back Spotify's status and body. No validation, logging, sealing or limits, so the
 * difference to the real service is the cost of those features.
 *
 * Node built-ins only: run.ts transpiles this file and runs it with plain `node`, so no loader sits
 * in the process whose memory and CPU are measured.
 *
 * Env: ACCOUNTS_URL, CLIENT_ID, CLIENT_SECRET. Prints `listening on http://127.0.0.1:PORT` on stderr.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const accountsUrl = process.env.ACCOUNTS_URL;
const clientId = process.env.CLIENT_ID;
const clientSecret = process.env.CLIENT_SECRET;
if (!accountsUrl || !clientId || !clientSecret) {
  process.stderr.write('baseline: ACCOUNTS_URL, CLIENT_ID and CLIENT_SECRET are required\n');
  process.exit(2);
}

const tokenEndpoint = `${accountsUrl}/api/token`;
const authorization = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
const GRANT_BY_PATH: Record<string, string> = {
  '/swap': 'authorization_code',
  '/refresh': 'refresh_token',
};

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
    const upstream = await fetch(tokenEndpoint, {
      method: 'POST',
      headers: { Authorization: authorization, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `grant_type=${grantType}&${Buffer.concat(chunks).toString()}`,
    });
    const body = await upstream.text();
    res
      .writeHead(upstream.status, { 'Content-Type': upstream.headers.get('content-type') ?? 'text/plain' })
      .end(body);
  } catch {
    // Counted as an error by the load generator, which is all the benchmark needs to know.
    res.writeHead(502).end();
  }
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stderr.write(`baseline listening on http://127.0.0.1:${port}\n`);
});

// The orchestrator stops its children with SIGTERM; exit at once, there is nothing to drain.
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
