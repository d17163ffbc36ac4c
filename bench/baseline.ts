/**
 * The benchmark's baseline: the least a swap service can do. It prepends the grant type to the
 * client's form body, forwards it to the token endpoint with Basic auth over a keep-alive
 * `http.Agent` (or the global `fetch`: the second column), and writes back Spotify's status and body.
 * No validation, logging, sealing or limits, so the difference to the real service is the cost of
 * those features.
 *
 * Node built-ins only: run.ts transpiles this file and runs it with plain `node`, so no loader sits
 * in the process whose memory and CPU are measured.
 *
 * Env: ACCOUNTS_URL, CLIENT_ID, CLIENT_SECRET; BASELINE_CLIENT `node-http` (node:http over a
 * keep-alive agent, the client the service uses on Node) or `fetch`. Prints
 * `listening on http://127.0.0.1:PORT` on stderr.
 */
import { Agent, createServer, request } from 'node:http';
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

interface Upstream {
  status: number;
  contentType: string | undefined;
  body: string;
}

const headers = { Authorization: authorization, 'Content-Type': 'application/x-www-form-urlencoded' };

async function viaFetch(body: string): Promise<Upstream> {
  const upstream = await fetch(tokenEndpoint, { method: 'POST', headers, body });
  return {
    status: upstream.status,
    contentType: upstream.headers.get('content-type') ?? undefined,
    body: await upstream.text(),
  };
}

const agent = new Agent({ keepAlive: true });
function viaNodeHttp(body: string): Promise<Upstream> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      tokenEndpoint,
      { method: 'POST', headers: { ...headers, 'Content-Length': Buffer.byteLength(body) }, agent },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () =>
          resolve({
            status: incoming.statusCode ?? 502,
            contentType: incoming.headers['content-type'],
            body: Buffer.concat(chunks).toString(),
          }),
        );
        incoming.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

const callUpstream = process.env.BASELINE_CLIENT === 'fetch' ? viaFetch : viaNodeHttp;

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
    res
      .writeHead(upstream.status, { 'Content-Type': upstream.contentType ?? 'text/plain' })
      .end(upstream.body);
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
