/**
 * The service's own CPU per `/refresh`, in process and without sockets: the app's `fetch` handler
 * with the Node entry's options (node:crypto sealing, prom-client, pino to /dev/null) and an upstream
 * that answers at once. Steadier than anything over sockets on a shared machine: the quick loop for
 * work on the request path (docs/benchmarks.md).
 *
 *   npx tsx bench/in-process.ts
 *
 * Env: IP_REQUESTS (per round, default 20000), IP_ROUNDS (default 5), IP_CONCURRENCY (default 20),
 * IP_HEAP=1 (where a refresh's allocations come from, by V8's sampling heap profiler).
 */
import { createWriteStream } from 'node:fs';
import { createNodeLogger } from '../src/runtimes/node/logger.js';
import { createNodeService } from '../src/runtimes/node/service.js';
import { loadConfig } from '../src/server/config/index.js';
import type { UpstreamFetch } from '../src/server/upstream/token-request.js';
import { count } from './samples.js';

const requests = count('IP_REQUESTS', 20_000, 1_000_000);
const rounds = count('IP_ROUNDS', 5, 100);
const concurrency = count('IP_CONCURRENCY', 20, 1_000);

let minted = 0;
const ACCESS_TOKEN = `BQ${'a'.repeat(160)}`;
const upstream: UpstreamFetch = Object.assign(
  async (_url: string, init: { body: string }) => {
    const answer: Record<string, unknown> = {
      access_token: ACCESS_TOKEN,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'user-read-email user-read-private',
    };
    if (init.body.includes('grant_type=authorization_code'))
      answer.refresh_token = `rt-${minted++}-${'x'.repeat(40)}`;
    const text = JSON.stringify(answer);
    return {
      status: 200,
      headers: { get: (name: string) => (name.toLowerCase() === 'content-type' ? 'application/json' : null) },
      text: async () => text,
    };
  },
  { enforcesTimeout: true as const },
) as unknown as UpstreamFetch;

const config = loadConfig({
  SPOTIFY_CLIENT_ID: 'sandbox-client-id',
  SPOTIFY_CLIENT_SECRET: 'sandbox-client-secret-not-for-production',
  SPOTIFY_REDIRECT_URI: 'http://127.0.0.1/callback',
  SPOTIFY_ACCOUNTS_URL: 'http://127.0.0.1:9/',
  ENCRYPTION_SECRET: 'x'.repeat(48),
  LOG_LEVEL: 'info',
  RATE_LIMIT_SWAP_PER_MINUTE: '0',
  RATE_LIMIT_REFRESH_PER_MINUTE: '0',
});
const logger = createNodeLogger('info', createWriteStream('/dev/null'));
const service = createNodeService(config, { logger, fetch: upstream });
const form = { 'Content-Type': 'application/x-www-form-urlencoded' };

async function post(path: string, body: string): Promise<string> {
  // With Content-Length, as a client over a socket sends it (body-limit then reads no stream).
  const headers = { ...form, 'Content-Length': String(Buffer.byteLength(body)) };
  const response = await service.app.fetch(
    new Request(`http://127.0.0.1${path}`, { method: 'POST', headers, body }),
  );
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${path}: ${response.status} ${text}`);
  return text;
}

const tokens: string[] = [];
for (let i = 0; i < 2_000; i++) {
  const answer = JSON.parse(
    await post('/swap', `code=c${i}&redirect_uri=http%3A%2F%2F127.0.0.1%3A8888%2Fcallback`),
  );
  tokens.push(answer.refresh_token);
}

async function round(n: number, work: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) await work(i);
    }),
  );
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

const refresh = (i: number) =>
  post('/refresh', `refresh_token=${encodeURIComponent(tokens[i % tokens.length] ?? '')}`);
// What a Request and reading a Response cost by themselves, without the app.
const bare = async (i: number) => {
  const request = new Request('http://127.0.0.1/refresh', {
    method: 'POST',
    headers: form,
    body: `refresh_token=${i}`,
  });
  await request.text();
  return new Response('{"a":1}', { headers: { 'Content-Type': 'application/json' } }).text();
};
await round(requests, refresh);
if (process.env.IP_HEAP === '1') {
  // Where the allocations of a refresh come from: V8's sampling heap profiler, counting what the
  // young and old generation collections freed too.
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  } as never);
  await round(requests, refresh);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as {
    profile: { head: HeapNode };
  };
  interface HeapNode {
    callFrame: { functionName: string; url: string; lineNumber: number };
    selfSize: number;
    children: HeapNode[];
  }
  const bySite = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  const walk = (node: HeapNode, owner: string) => {
    const url = node.callFrame.url.replace(/^file:\/\/.*?\/(src|bench|node_modules)\//, '$1/');
    const mine = url.startsWith('src/') || url.startsWith('node_modules/');
    const here = mine ? `${url}` : owner;
    total += node.selfSize;
    const site = `${node.callFrame.functionName || '(anon)'} ${url}:${node.callFrame.lineNumber + 1} [${here}]`;
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    byFile.set(here, (byFile.get(here) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child, here);
  };
  walk(profile.head, '(root)');
  const top = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${(v / requests / 1024).toFixed(2).padStart(7)} KB  ${k}`)
      .join('\n');
  process.stdout.write(
    `allocated per refresh: ${(total / requests / 1024).toFixed(1)} KB\n${top(byFile, 30)}\n---\n${top(bySite, 40)}\n`,
  );
}
const results: number[] = [];
const bares: number[] = [];
for (let r = 0; r < rounds; r++) {
  results.push(await round(requests, refresh));
  bares.push(await round(requests, bare));
}
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const min = (values: number[]) => Math.min(...values);
process.stdout.write(
  `in process: ${median(results).toFixed(1)} µs CPU per refresh, min ${min(results).toFixed(1)} (rounds ${results.map((v) => v.toFixed(0)).join(', ')}); ` +
    `a bare Request + Response ${median(bares).toFixed(1)} µs, min ${min(bares).toFixed(1)}; ` +
    `the app alone (min - min) ${(min(results) - min(bares)).toFixed(1)} µs\n`,
);
await service.close();
