/**
 * What a `/refresh` holds in memory while it waits for Spotify: the state the young generation copies
 * at every scavenge, and promotes when it waits long enough (docs/benchmarks.md, "What a refresh holds
 * while it waits"). In one process: a token endpoint that answers codes at once and holds refreshes
 * until told, the service on its Node server (the Node entry's options, pino to /dev/null), and beside
 * it the Hono baseline's server (bench/hono-baseline.ts's work: Hono, @hono/node-server, the service's
 * upstream client). For each, IF_REQUESTS refreshes are sent at once, and once the endpoint holds them
 * all, the heap after a full collection is compared with the heap before they were sent; a heap
 * snapshot of each says which kinds of object the difference is made of. The client's and the token
 * endpoint's share (their sockets, requests and answers) is the same for both servers.
 *
 *   node --expose-gc --import tsx bench/in-flight.ts
 *
 * Env: IF_REQUESTS (in flight at once, default 50), IF_TOP (kinds of object listed, default 15),
 * IF_ROUNDS (measurements of each server, alternating, default 2). Each takes two heap snapshots,
 * about half a minute each on the 2-core test machine, whatever the count in flight.
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { createNodeLogger } from '../src/runtimes/node/logger.js';
import { startNodeServer } from '../src/runtimes/node/server.js';
import { createNodeService } from '../src/runtimes/node/service.js';
import { loadConfig } from '../src/server/config/index.js';
import { refreshBody, sealedRefreshTokens, swapBody } from './grants.js';
import { count } from './samples.js';
import { CLIENT_ID, CLIENT_SECRET } from './servers.js';
import { serviceTokenCall } from './service-upstream.js';

const IN_FLIGHT = count('IF_REQUESTS', 50, 1_000);
/** How long the held refreshes may take to reach the token endpoint. */
const ARRIVAL_MS = 20_000;
/** Longer than the two heap snapshots a measurement takes while the refreshes are held. */
const UPSTREAM_TIMEOUT_MS = 120_000;
const TOP = count('IF_TOP', 15, 200);
const ROUNDS = count('IF_ROUNDS', 2, 10);
const SNAPSHOTS = mkdtempSync(join(tmpdir(), 'token-swap-in-flight-'));
process.once('exit', () => rmSync(SNAPSHOTS, { recursive: true, force: true }));
const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) {
  process.stderr.write('run with node --expose-gc --import tsx bench/in-flight.ts\n');
  process.exit(2);
}

/** The token endpoint: codes answered at once, refreshes held while `holding`. */
function tokenEndpoint() {
  const held: ServerResponse[] = [];
  let minted = 0;
  let holding = false;
  const answer = (response: ServerResponse, refreshToken?: string) => {
    const body = JSON.stringify({
      access_token: `BQ${'a'.repeat(160)}`,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'user-read-email',
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
    });
    response.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
    });
    response.end(body);
  };
  const server = createServer((incoming, response) => {
    let form = '';
    incoming.setEncoding('utf8');
    incoming.on('data', (chunk: string) => {
      form += chunk;
    });
    incoming.on('end', () => {
      if (form.includes('grant_type=authorization_code'))
        answer(response, `rt-${minted++}-${'x'.repeat(40)}`);
      else if (holding) held.push(response);
      else answer(response);
    });
  });
  return {
    server,
    held,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const response of held.splice(0)) answer(response);
    },
  };
}

const listen = (server: ReturnType<typeof createServer>) =>
  new Promise<string>((done) =>
    server.listen(0, '127.0.0.1', () => done(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );

// A connection per request: a heap snapshot takes longer than the servers keep an idle connection
// open, and a kept one would be reset under the next request.
const agent = new Agent({ keepAlive: false, maxSockets: IN_FLIGHT });
function post(url: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((done, fail) => {
    const call = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': Buffer.byteLength(body),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => done({ status: response.statusCode ?? 0, text }));
      },
    );
    call.on('error', (error) => fail(new Error(`${url}: ${error.message}`)));
    call.end(body);
  });
}

/** Self size by kind of object (`type name`) over the whole heap, from a snapshot. */
function heapByKind(): Map<string, number> {
  // Through a file: in a process serving sockets, reading v8.getHeapSnapshot()'s stream took 30
  // times as long as writing and reading the file.
  const file = writeHeapSnapshot(join(SNAPSHOTS, `${process.pid}-${Date.now()}.heapsnapshot`));
  const json = readFileSync(file, 'utf8');
  rmSync(file);
  const snapshot = JSON.parse(json) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field)) as [
    number,
    number,
    number,
  ];
  const sizes = new Map<string, number>();
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const type = types[snapshot.nodes[i + typeAt] ?? 0] ?? '?';
    // Strings and code are told apart by type only: their names are their contents.
    const name =
      type === 'object' || type === 'closure' || type === 'native'
        ? (snapshot.strings[snapshot.nodes[i + nameAt] ?? 0] ?? '?')
        : '';
    const kind = `${type} ${name}`.trim();
    sizes.set(kind, (sizes.get(kind) ?? 0) + (snapshot.nodes[i + sizeAt] ?? 0));
  }
  return sizes;
}

const settled = () => {
  collect();
  collect();
  return process.memoryUsage().heapUsed;
};

async function measure(
  name: string,
  url: string,
  tokens: readonly string[],
  endpoint: ReturnType<typeof tokenEndpoint>,
) {
  // Warm: every path compiled, every pool filled, before anything is counted.
  for (let round = 0; round < 3; round++) {
    const answers = await Promise.all(tokens.map((token) => post(`${url}/refresh`, refreshBody(token))));
    const failed = answers.find((answer) => answer.status !== 200);
    if (failed) throw new Error(`${name}: ${failed.status} ${failed.text}`);
  }
  const before = settled();
  const kindsBefore = heapByKind();
  endpoint.hold();
  const sent = Promise.all(tokens.map((token) => post(`${url}/refresh`, refreshBody(token))));
  const deadline = Date.now() + ARRIVAL_MS;
  while (endpoint.held.length < tokens.length) {
    if (Date.now() > deadline)
      throw new Error(
        `${name}: ${endpoint.held.length} of ${tokens.length} refreshes reached the token endpoint`,
      );
    await new Promise((tick) => setTimeout(tick, 10));
  }
  const during = settled();
  const kindsDuring = heapByKind();
  endpoint.release();
  const failed = (await sent).find((answer) => answer.status !== 200);
  if (failed) throw new Error(`${name}: a held refresh got ${failed.status} ${failed.text}`);
  const per = (bytes: number) => (bytes / tokens.length / 1024).toFixed(2);
  const grown = [...kindsDuring]
    .map(([kind, size]) => [kind, size - (kindsBefore.get(kind) ?? 0)] as const)
    .sort((a, b) => b[1] - a[1]);
  const total = grown.reduce((sum, [, size]) => sum + size, 0);
  // The snapshots' sum is the steadier figure: heapUsed also moves with what the collector kept.
  console.log(
    `${name}: ${per(total)} KB per refresh in flight by the heap snapshots (heapUsed ${per(during - before)} KB), ${tokens.length} at once`,
  );
  for (const [kind, size] of grown.slice(0, TOP)) console.log(`  ${per(size).padStart(6)} KB  ${kind}`);
}

const endpoint = tokenEndpoint();
const accountsUrl = await listen(endpoint.server);
const config = loadConfig({
  SPOTIFY_CLIENT_ID: CLIENT_ID,
  SPOTIFY_CLIENT_SECRET: CLIENT_SECRET,
  SPOTIFY_REDIRECT_URI: 'http://127.0.0.1/callback',
  SPOTIFY_ACCOUNTS_URL: accountsUrl,
  ENCRYPTION_SECRET: 'x'.repeat(48),
  LOG_LEVEL: 'info',
  RATE_LIMIT_SWAP_PER_MINUTE: '0',
  RATE_LIMIT_REFRESH_PER_MINUTE: '0',
  // Every refresh at once reaches Spotify, none waits for a slot.
  UPSTREAM_MAX_CONCURRENCY: String(IN_FLIGHT),
  UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
});
const logger = createNodeLogger('info', createWriteStream('/dev/null'));
const service = createNodeService(config, { logger });
const running = await startNodeServer({ host: '127.0.0.1', port: 0, handler: () => service.app.fetch });
const codes = Array.from({ length: IN_FLIGHT }, (_, i) => `code-${i}`);
const sealed = await sealedRefreshTokens(running.url, codes, swapBody, 10);

// The Hono baseline: the same work as bench/hono-baseline.ts, in this process.
Object.assign(process.env, { ACCOUNTS_URL: accountsUrl, CLIENT_ID, CLIENT_SECRET });
const callUpstream = serviceTokenCall('in-flight', UPSTREAM_TIMEOUT_MS);
const baseline = new Hono();
baseline.post('/refresh', async (c) => {
  const answer = await callUpstream(`grant_type=refresh_token&${await c.req.text()}`);
  return new Response(answer.body, {
    status: answer.status,
    headers: { 'Content-Type': answer.contentType },
  });
});
const baselineServer = createServer(getRequestListener(baseline.fetch));
const baselineUrl = await listen(baselineServer);
const plain = Array.from({ length: IN_FLIGHT }, (_, i) => `rt-plain-${i}`);

console.log(`Node ${process.version}, ${IN_FLIGHT} refreshes in flight at once`);
for (let round = 1; round <= ROUNDS; round++) {
  const label = (name: string) => (ROUNDS === 1 ? name : `${name}, round ${round}`);
  // ABBA: whatever drifts over the run falls on both alike.
  if (round % 2 === 1) {
    await measure(label('service'), running.url, sealed, endpoint);
    await measure(label('Hono baseline'), baselineUrl, plain, endpoint);
  } else {
    await measure(label('Hono baseline'), baselineUrl, plain, endpoint);
    await measure(label('service'), running.url, sealed, endpoint);
  }
}

agent.destroy();
await running.close(1_000);
await service.close();
baselineServer.close();
// The baseline's upstream connections are the endpoint's to end: serviceTokenCall keeps its client.
endpoint.server.closeAllConnections();
endpoint.server.close();
