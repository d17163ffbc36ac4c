/**
 * The Node entry's upstream client (src/runtimes/node/upstream-client.ts) against real sockets, and
 * against the global `fetch` it stands in for: same answers, same aborts, same error `code`s as far
 * as the service reads them (parseTokenResponse and failureResult).
 *
 * Every server here is node:http / node:https on 127.0.0.1, port 0; the HTTPS one uses the test-only
 * certificate in test/fixtures/tls (see generate.sh there). No timers: every wait is on an event.
 */
import { getEventListeners, once } from 'node:events';
import { readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createNodeUpstream,
  MAX_UPSTREAM_BODY_BYTES,
  type NodeUpstream,
  type NodeUpstreamOptions,
} from '../src/runtimes/node/upstream-client.js';
import {
  basicAuthorization,
  failureResult,
  type UpstreamFetch,
  type UpstreamRequestInit,
} from '../src/server/upstream/token-request.js';
import { retryAfterSeconds } from '../src/shared/token-response.js';

const TLS_KEY = readFileSync(new URL('./fixtures/tls/key.pem', import.meta.url));
const TLS_CERT = readFileSync(new URL('./fixtures/tls/cert.pem', import.meta.url));

/** The reference: what every other runtime uses, and what the Node client claims to behave like. */
const referenceFetch: UpstreamFetch = (url, init) => fetch(url, init);

/** A form body with characters outside ASCII, so that Content-Length must count bytes, not chars. */
const FORM = 'grant_type=refresh_token&refresh_token=AQ%C3%A9x-%2B%2F&note=caf\u00e9\u2713\u{1F3B5}';
const AUTHORIZATION = basicAuthorization('client-id', 'client secret');

function requestInit(signal: AbortSignal = new AbortController().signal): UpstreamRequestInit {
  return {
    method: 'POST',
    headers: {
      Authorization: AUTHORIZATION,
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    },
    body: FORM,
    redirect: 'manual',
    signal,
  };
}

// ---------------------------------------------------------------------------------------------
// Servers and clients, all closed after each test

const cleanups: Array<() => void | Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

function newUpstream(options?: NodeUpstreamOptions): NodeUpstream {
  const upstream = createNodeUpstream(options);
  cleanups.push(() => upstream.close());
  return upstream;
}

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Answers a request whose body has been read in full. */
type Answer = (res: ServerResponse, req: IncomingMessage) => void;

interface TestServer {
  /** Origin without a trailing slash, e.g. `http://127.0.0.1:43123`. */
  origin: string;
  /** Every request read in full, in order. */
  received: Received[];
  /** Server-side TCP sockets, in accept order. */
  connections: Socket[];
}

async function serve(
  answer: Answer,
  options: { tls?: boolean; keepAliveTimeout?: number } = {},
): Promise<TestServer> {
  const received: Received[] = [];
  const connections: Socket[] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      answer(res, req);
    });
  };
  const server = options.tls
    ? createHttpsServer({ key: TLS_KEY, cert: TLS_CERT }, onRequest)
    : createHttpServer(onRequest);
  if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
  server.on('connection', (socket: Socket) => connections.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { origin: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`, received, connections };
}

/** A port that was just listened on and closed: nothing accepts there. */
async function closedPort(): Promise<number> {
  const probe = createHttpServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** The reason a promise rejected with; fails the test if it resolved. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}

// ---------------------------------------------------------------------------------------------
// 1. Parity with the global fetch

interface Observed {
  status: number;
  headers: Record<string, string | null>;
  text: string;
}

async function observe(call: UpstreamFetch, url: string, headerNames: string[]): Promise<Observed> {
  const response = await call(url, requestInit());
  const headers = Object.fromEntries(headerNames.map((name) => [name, response.headers.get(name)]));
  return { status: response.status, headers, text: await response.text() };
}

interface Behaviour {
  what: string;
  answer: Answer;
  /** What the reference fetch sees; pins each row, so that parity cannot hold vacuously. */
  expected: Observed;
}

const TOKEN_JSON = '{"access_token":"BQ-token","token_type":"Bearer","expires_in":3600,"scope":""}';
const NOT_UTF8 = Buffer.from([
  0x7b, 0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82, 0x41, 0xf0, 0x9f, 0x98, 0x7d, 0xed, 0xa0, 0x80, 0xc0, 0xaf, 0xf4,
  0x90, 0x80, 0x80, 0xe2, 0x82,
]);
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

const behaviours: Behaviour[] = [
  {
    what: '200 with a JSON token answer',
    answer: (res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(TOKEN_JSON);
    },
    expected: {
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      text: TOKEN_JSON,
    },
  },
  {
    what: '400 with a JSON OAuth error',
    answer: (res) => {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end('{"error":"invalid_grant","error_description":"Invalid refresh token"}');
    },
    expected: {
      status: 400,
      headers: { 'content-type': 'application/json' },
      text: '{"error":"invalid_grant","error_description":"Invalid refresh token"}',
    },
  },
  {
    what: '429 with Retry-After',
    answer: (res) => {
      res.writeHead(429, { 'Retry-After': '7', 'Content-Type': 'text/plain' });
      res.end('Too many requests');
    },
    expected: {
      status: 429,
      headers: { 'retry-after': '7', 'content-type': 'text/plain' },
      text: 'Too many requests',
    },
  },
  {
    what: '503 with a plain-text body',
    answer: (res) => {
      res.writeHead(503, { 'Content-Type': 'text/plain' });
      res.end('upstream connect error or disconnect/reset before headers');
    },
    expected: {
      status: 503,
      headers: { 'content-type': 'text/plain' },
      text: 'upstream connect error or disconnect/reset before headers',
    },
  },
  {
    // The server would answer /elsewhere too; the request count check below proves nobody asked.
    what: '302 with a Location, which is not followed',
    answer: (res, req) => {
      if (req.url === '/elsewhere') {
        res.end('followed');
        return;
      }
      res.writeHead(302, { Location: '/elsewhere' });
      res.end('moved');
    },
    expected: { status: 302, headers: { location: '/elsewhere' }, text: 'moved' },
  },
  {
    what: 'headers sent twice (two Set-Cookie, two X-Dup), joined with ", "',
    answer: (res) => {
      res.setHeader('Set-Cookie', ['a=1; Path=/', 'b=2; Path=/']);
      res.setHeader('X-Dup', ['one', 'two']);
      res.end('ok');
    },
    expected: {
      status: 200,
      headers: { 'set-cookie': 'a=1; Path=/, b=2; Path=/', 'x-dup': 'one, two', 'x-absent': null },
      text: 'ok',
    },
  },
  {
    what: 'an empty 200 body (Content-Length: 0)',
    answer: (res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '0' });
      res.end();
    },
    expected: {
      status: 200,
      headers: { 'content-type': 'application/json', 'content-length': '0' },
      text: '',
    },
  },
  {
    what: '204 No Content',
    answer: (res) => {
      res.writeHead(204);
      res.end();
    },
    expected: { status: 204, headers: { 'content-length': null }, text: '' },
  },
  {
    what: 'a body that is not valid UTF-8 (decoded with U+FFFD as TextDecoder does)',
    answer: (res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(NOT_UTF8);
    },
    expected: {
      status: 200,
      headers: { 'content-type': 'application/octet-stream' },
      text: new TextDecoder().decode(NOT_UTF8),
    },
  },
  {
    what: 'a character split across two chunked writes',
    answer: (res) => {
      res.write(Buffer.from([0x7b, 0xe2, 0x82]));
      res.end(Buffer.from([0xac, 0x7d]));
    },
    expected: { status: 200, headers: { 'transfer-encoding': 'chunked' }, text: '{\u20ac}' },
  },
  {
    what: 'a body delimited by the connection closing (no Content-Length, not chunked)',
    answer: (res) => {
      res.socket?.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nread until the server closes');
    },
    expected: { status: 200, headers: { connection: 'close' }, text: 'read until the server closes' },
  },
  {
    // fetch asks for gzip and decodes it; the Node client does not ask, so it is sent plain.
    what: 'gzip only when the request accepts it',
    answer: (res, req) => {
      const body = '{"compressed":"maybe"}';
      if (/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
        res.end(gzipSync(body));
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(body);
      }
    },
    expected: {
      status: 200,
      headers: { 'content-type': 'application/json' },
      text: '{"compressed":"maybe"}',
    },
  },
  {
    what: 'a JSON body after a UTF-8 byte order mark',
    answer: (res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(Buffer.concat([BOM, Buffer.from(TOKEN_JSON)]));
    },
    expected: { status: 200, headers: { 'content-type': 'application/json' }, text: TOKEN_JSON },
  },
  {
    what: 'gzip sent although the request did not ask for it',
    answer: (res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
      res.end(gzipSync(TOKEN_JSON));
    },
    expected: { status: 200, headers: { 'content-type': 'application/json' }, text: TOKEN_JSON },
  },
];

describe('createNodeUpstream().fetch answers as the global fetch does', () => {
  for (const row of behaviours) {
    it(`${row.what}: same status, headers and text()`, async () => {
      const server = await serve(row.answer);
      const url = `${server.origin}/api/token`;
      const headerNames = Object.keys(row.expected.headers);

      const reference = await observe(referenceFetch, url, headerNames);
      const ours = await observe(newUpstream().fetch, url, headerNames);

      expect(reference).toEqual(row.expected);
      expect(ours).toEqual(reference);
    });
  }

  it('sends the same request as fetch: method, path, body, Content-Type, Authorization, byte Content-Length', async () => {
    const server = await serve((res) => res.end('ok'));
    const url = `${server.origin}/api/token?probe=1`;
    await (await referenceFetch(url, requestInit())).text();
    await (await newUpstream().fetch(url, requestInit())).text();

    expect(server.received).toHaveLength(2);
    const [reference, ours] = server.received.map((request) => ({
      method: request.method,
      url: request.url,
      body: request.body.toString('utf8'),
      contentType: request.headers['content-type'],
      authorization: request.headers.authorization,
      accept: request.headers.accept,
      contentLength: request.headers['content-length'],
      transferEncoding: request.headers['transfer-encoding'],
    }));
    expect(reference).toEqual({
      method: 'POST',
      url: '/api/token?probe=1',
      body: FORM,
      contentType: 'application/x-www-form-urlencoded',
      authorization: AUTHORIZATION,
      accept: 'application/json',
      // Bytes, not UTF-16 code units: the form holds é, ✓ and an astral character.
      contentLength: String(Buffer.byteLength(FORM)),
      transferEncoding: undefined,
    });
    expect(ours).toEqual(reference);
    expect(Number(ours?.contentLength)).toBeGreaterThan(FORM.length);
  });

  it('reads a repeated Retry-After as its first value (Node drops the duplicate; fetch would join them)', async () => {
    // fetch answers "10, 20", which retryAfterSeconds reads as the date 2001-10-20 and so as 1 s.
    // Node's parser keeps the first value of headers it knows to be single: the saner answer.
    const server = await serve((res) => {
      res.setHeader('Retry-After', ['10', '20']);
      res.writeHead(429);
      res.end();
    });
    const response = await newUpstream().fetch(`${server.origin}/api/token`, requestInit());
    await response.text();
    expect(response.headers.get('retry-after')).toBe('10');
    expect(retryAfterSeconds(response.headers.get('retry-after'))).toBe(10);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Aborting

describe('aborting the signal', () => {
  // What the upstream caller aborts with, and a reason that is not an Error: fetch rejects with either as is.
  const reasons = [
    { kind: 'DOMException TimeoutError', make: (): unknown => new DOMException('x', 'TimeoutError') },
    { kind: 'plain object', make: (): unknown => ({ name: 'TimeoutError', note: 'not an Error' }) },
  ];

  it.each(reasons)(
    "while waiting for the answer rejects with exactly the signal's reason ($kind) and closes the connection",
    async ({ make }) => {
      const arrived = deferred<Socket>();
      const server = await serve((_res, req) => arrived.resolve(req.socket)); // never answers
      const controller = new AbortController();
      const call = newUpstream().fetch(`${server.origin}/api/token`, requestInit(controller.signal));
      const serverSide = await arrived.promise;
      const closed = once(serverSide, 'close');

      const reason = make();
      controller.abort(reason);

      expect(await rejection(call)).toBe(reason);
      await closed;
      expect(server.received).toHaveLength(1);
    },
    5_000,
  );

  it.each(reasons)(
    "mid-body: fetch has resolved, then text() rejects with exactly the signal's reason ($kind)",
    async ({ make }) => {
      const stalled = deferred<Socket>();
      const server = await serve((res, req) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
        res.write('{"access_token":', () => stalled.resolve(req.socket)); // ...and nothing more
      });
      const controller = new AbortController();
      const response = await newUpstream().fetch(
        `${server.origin}/api/token`,
        requestInit(controller.signal),
      );
      expect(response.status).toBe(200);
      const serverSide = await stalled.promise;
      const closed = once(serverSide, 'close');

      const text = response.text();
      const reason = make();
      controller.abort(reason);

      expect(await rejection(text)).toBe(reason);
      await closed;
    },
    5_000,
  );

  it('already aborted: rejects with its reason without opening a connection', async () => {
    const server = await serve((res) => res.end('ok'));
    const upstream = newUpstream();
    const controller = new AbortController();
    const reason = new DOMException('x', 'TimeoutError');
    controller.abort(reason);

    expect(await rejection(upstream.fetch(`${server.origin}/aborted`, requestInit(controller.signal)))).toBe(
      reason,
    );

    // A later call is the first thing the server ever sees: one connection, one request.
    const after = await upstream.fetch(`${server.origin}/after`, requestInit());
    expect(await after.text()).toBe('ok');
    expect(server.received.map((request) => request.url)).toEqual(['/after']);
    expect(server.connections).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Network errors carry Node's codes

describe('network errors', () => {
  it('a closed port rejects with ECONNREFUSED, which failureResult reads as never sent (as for fetch)', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/api/token`;
    const ours = await rejection(newUpstream().fetch(url, requestInit()));
    expect(codeOf(ours)).toBe('ECONNREFUSED');
    expect(failureResult(ours)).toEqual({ kind: 'network_error', requestSent: false });
    expect(failureResult(await rejection(referenceFetch(url, requestInit())))).toEqual({
      kind: 'network_error',
      requestSent: false,
    });
  });

  it('a reset after the request was read rejects with ECONNRESET, which is not "never sent" (as for fetch)', async () => {
    const server = await serve((_res, req) => req.socket.destroy());
    const url = `${server.origin}/api/token`;
    const ours = await rejection(newUpstream().fetch(url, requestInit()));
    expect(codeOf(ours)).toBe('ECONNRESET');
    expect(failureResult(ours)).toEqual({ kind: 'network_error', requestSent: true });
    // Not a timeout either: the upstream caller counts it as a network error.
    expect((ours as Error).name).not.toMatch(/^(TimeoutError|AbortError)$/);
    expect(failureResult(await rejection(referenceFetch(url, requestInit())))).toEqual({
      kind: 'network_error',
      requestSent: true,
    });
    expect(server.received).toHaveLength(2);
  });

  it('a body cut short of its Content-Length (10 of 100 bytes, then close) makes text() reject, as for fetch', async () => {
    const server = await serve((res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
      res.write('0123456789', () => res.socket?.end());
    });
    const url = `${server.origin}/api/token`;
    for (const call of [newUpstream().fetch, referenceFetch]) {
      const response = await call(url, requestInit());
      expect(response.status).toBe(200);
      await rejection(response.text());
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Body size limit

describe('MAX_UPSTREAM_BODY_BYTES', () => {
  it('an answer of exactly MAX_UPSTREAM_BODY_BYTES is read whole', async () => {
    const server = await serve((res) => res.end(Buffer.alloc(MAX_UPSTREAM_BODY_BYTES, 'a')));
    const response = await newUpstream().fetch(`${server.origin}/api/token`, requestInit());
    const text = await response.text();
    expect(text.length).toBe(MAX_UPSTREAM_BODY_BYTES);
  });

  it('one byte more makes text() reject with ERR_UPSTREAM_BODY_TOO_LARGE, and the next call still works', async () => {
    const server = await serve((res, req) => {
      if (req.url === '/small') {
        res.end('small');
        return;
      }
      // Chunked, no Content-Length: the limit must hold on the bytes that actually arrive.
      const piece = Buffer.alloc(64 * 1024, 'b');
      for (let sent = 0; sent < MAX_UPSTREAM_BODY_BYTES; sent += piece.length) res.write(piece);
      res.end('!');
    });
    const upstream = newUpstream();
    const response = await upstream.fetch(`${server.origin}/api/token`, requestInit());
    expect(response.status).toBe(200);
    expect(codeOf(await rejection(response.text()))).toBe('ERR_UPSTREAM_BODY_TOO_LARGE');

    const next = await upstream.fetch(`${server.origin}/small`, requestInit());
    expect(await next.text()).toBe('small');
  });
});

// ---------------------------------------------------------------------------------------------
// Abort listeners: the client adds one per call and must take it off again

describe('abort listeners', () => {
  it('a call that succeeded, and one that failed to connect, leave no abort listener on their signals', async () => {
    const server = await serve((res) => res.end('ok'));
    const upstream = newUpstream();

    const succeeded = new AbortController();
    const response = await upstream.fetch(`${server.origin}/api/token`, requestInit(succeeded.signal));
    await response.text();
    expect(getEventListeners(succeeded.signal, 'abort')).toHaveLength(0);

    const refused = new AbortController();
    const url = `http://127.0.0.1:${await closedPort()}/api/token`;
    await rejection(upstream.fetch(url, requestInit(refused.signal)));
    expect(getEventListeners(refused.signal, 'abort')).toHaveLength(0);
  });

  // Regression: when node:http threw synchronously inside the Promise executor (ERR_INVALID_CHAR
  // for a header value with a newline; also an unknown protocol), the call rejected but its abort
  // listener stayed on the signal and read a request that was never created: aborting the signal
  // later was an uncaught exception. The test stops short of aborting (that would crash the worker).
  it('a request node:http refuses synchronously leaves no abort listener behind', async () => {
    const server = await serve((res) => res.end('ok'));
    const controller = new AbortController();
    const init = requestInit(controller.signal);
    init.headers['X-Bad'] = 'line\nbreak';
    const error = await rejection(newUpstream().fetch(`${server.origin}/api/token`, init));
    expect(codeOf(error)).toBe('ERR_INVALID_CHAR');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Keep-alive

describe('keep-alive', () => {
  it('20 sequential calls to one server use one TCP connection', async () => {
    const server = await serve((res) => res.end(TOKEN_JSON));
    const upstream = newUpstream();
    for (let i = 0; i < 20; i++) {
      const response = await upstream.fetch(`${server.origin}/api/token`, requestInit());
      expect(await response.text()).toBe(TOKEN_JSON);
    }
    expect(server.received).toHaveLength(20);
    expect(server.connections).toHaveLength(1);
  });

  it('close() ends the pooled idle connection (the server sees its socket close)', async () => {
    // Both sides would keep the idle connection for a minute: only close() can end it in time.
    const server = await serve((res) => res.end('ok'), { keepAliveTimeout: 60_000 });
    const upstream = newUpstream({ idleTimeoutMs: 60_000 });
    const response = await upstream.fetch(`${server.origin}/api/token`, requestInit());
    expect(await response.text()).toBe('ok');
    expect(server.connections).toHaveLength(1);
    const [serverSide] = server.connections;
    if (!serverSide) throw new Error('no connection');
    expect(serverSide.destroyed).toBe(false);
    const closed = once(serverSide, 'close');

    upstream.close();

    await closed;
  }, 5_000);
});

// ---------------------------------------------------------------------------------------------
// 6. HTTPS

describe('https', () => {
  it('with the fixture certificate as ca, calls to https://127.0.0.1 work and share one connection', async () => {
    const server = await serve((res) => res.end(TOKEN_JSON), { tls: true });
    const upstream = newUpstream({ ca: TLS_CERT });
    for (let i = 0; i < 3; i++) {
      const response = await upstream.fetch(`${server.origin}/api/token`, requestInit());
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(TOKEN_JSON);
    }
    expect(server.received.map((request) => request.body.toString('utf8'))).toEqual([FORM, FORM, FORM]);
    expect(server.connections).toHaveLength(1);
  });

  it('without ca, the self-signed certificate is refused and no request reaches the server', async () => {
    const server = await serve((res) => res.end(TOKEN_JSON), { tls: true });
    const error = await rejection(newUpstream().fetch(`${server.origin}/api/token`, requestInit()));
    expect(codeOf(error)).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(server.received).toHaveLength(0);
  });
});

describe('content codings', () => {
  it('asks for no compression', async () => {
    let asked: string | undefined;
    const server = await serve((res, req) => {
      asked = req.headers['accept-encoding'];
      res.end('{}');
    });
    await (await newUpstream().fetch(`${server.origin}/api/token`, requestInit())).text();
    expect(asked).toBe('identity');
  });

  it('undoes deflate and br a server applies anyway', async () => {
    for (const [coding, encode] of [
      ['deflate', deflateSync],
      ['br', brotliCompressSync],
    ] as const) {
      const server = await serve((res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': coding });
        res.end(encode(TOKEN_JSON));
      });
      const response = await newUpstream().fetch(`${server.origin}/api/token`, requestInit());
      expect(await response.text()).toBe(TOKEN_JSON);
    }
  });

  it('refuses a coding it cannot undo, and a compressed answer that inflates past the limit', async () => {
    const unknown = await serve((res) => {
      res.writeHead(200, { 'Content-Encoding': 'zstd' });
      res.end('not really zstd');
    });
    const bomb = await serve((res) => {
      res.writeHead(200, { 'Content-Encoding': 'gzip' });
      res.end(gzipSync(Buffer.alloc(MAX_UPSTREAM_BODY_BYTES + 1, 0x20)));
    });
    for (const server of [unknown, bomb]) {
      const response = await newUpstream().fetch(`${server.origin}/api/token`, requestInit());
      await rejection(response.text());
    }
  });
});

describe('its own deadline (init.timeoutMs, no signal): what the upstream caller uses on Node', () => {
  const withDeadline = (timeoutMs: number): UpstreamRequestInit => ({
    ...requestInit(),
    signal: undefined,
    timeoutMs,
  });

  it('says so: enforcesTimeout, so attemptTokenCall passes timeoutMs instead of a signal', () => {
    expect(newUpstream().fetch.enforcesTimeout).toBe(true);
  });

  it('while waiting for the answer rejects with a TimeoutError, read as a timeout, and closes the connection', async () => {
    const arrived = deferred<Socket>();
    const server = await serve((_res, req) => arrived.resolve(req.socket)); // never answers
    const call = newUpstream().fetch(`${server.origin}/api/token`, withDeadline(50));
    const closed = once(await arrived.promise, 'close');

    const error = await rejection(call);
    expect(error).toMatchObject({ name: 'TimeoutError' });
    expect(failureResult(error)).toEqual({ kind: 'timeout' });
    await closed;
  });

  it('mid-body: text() rejects with a TimeoutError', async () => {
    const server = await serve((res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
      res.write('{"access_token":'); // ...and nothing more
    });
    const response = await newUpstream().fetch(`${server.origin}/api/token`, withDeadline(50));
    expect(response.status).toBe(200);
    expect(failureResult(await rejection(response.text()))).toEqual({ kind: 'timeout' });
  });

  it('a call answered in time resolves, and its connection serves the next call', async () => {
    const server = await serve((res) => res.end('ok'));
    const upstream = newUpstream();
    for (let call = 0; call < 3; call++) {
      const response = await upstream.fetch(`${server.origin}/api/token`, withDeadline(60_000));
      expect(await response.text()).toBe('ok');
    }
    expect(server.connections).toHaveLength(1);
  });
});
