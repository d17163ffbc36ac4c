/**
 * The Node server wrapper (src/runtimes/node/server.ts): requests Node cannot parse get the JSON error
 * every other failure gets, not Node's plain-text answer, and the server keeps serving.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createNodeLogger,
  createNodeService,
  createPromMetrics,
  type NodeService,
} from '../src/runtimes/node/index.js';
import { type RunningServer, startNodeServer } from '../src/runtimes/node/server.js';
import { loadConfig } from '../src/server/config/index.js';
import { SECRET_A } from './helpers/stack.js';

let running: RunningServer | undefined;
afterEach(async () => {
  await running?.close(0);
  running = undefined;
});

async function start(): Promise<RunningServer> {
  running = await startNodeServer({
    host: '127.0.0.1',
    port: 0,
    handler: () => () => new Response('{"ok":true}', { headers: { 'Content-Type': 'application/json' } }),
  });
  return running;
}

/** Writes raw bytes on a fresh connection and reads until the server closes it. */
async function raw(port: number, bytes: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(bytes);
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('utf8');
}

function parse(answer: string) {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  return { statusLine, headers, body: JSON.parse(body) as unknown };
}

describe('requests Node cannot parse', () => {
  it.each([
    ['a malformed request line', 'GE T /swap HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['bytes that are not HTTP at all', 'hello there\r\n\r\n'],
    ['a header without a colon', 'POST /swap HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n'],
  ])('%s: 400 with the JSON error body', async (_, bytes) => {
    const { port } = await start();
    const answer = parse(await raw(port, bytes));
    expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.headers.connection).toBe('close');
    expect(answer.body).toEqual({
      error: 'invalid_request',
      error_description: 'The request is not valid HTTP/1.1',
    });
  });

  it('headers over 16 KiB: 431 with the JSON error body', async () => {
    const { port } = await start();
    const answer = parse(
      await raw(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
    );
    expect(answer.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.body).toEqual({
      error: 'invalid_request',
      error_description: 'The request headers exceed 16 KiB',
    });
  });

  it('keeps serving well-formed requests afterwards', async () => {
    const { port, url } = await start();
    await raw(port, 'GE T / HTTP/1.1\r\n\r\n');
    const response = await fetch(`${url}/`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });
});

describe('requests the adapter or Node would answer before the app', () => {
  it.each([
    [
      'an Expect other than 100-continue',
      'POST /swap HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 0\r\n\r\n',
      417,
    ],
    ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['a Host header with a space', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 400],
    ['a target with a backslash', 'POST /swap\\ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n', 400],
    ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n', 400],
  ])('%s: a JSON error, reported to be logged and counted', async (_, bytes, status) => {
    const reported: number[] = [];
    running = await startNodeServer({
      host: '127.0.0.1',
      port: 0,
      handler: () => () => new Response('{"ok":true}', { headers: { 'Content-Type': 'application/json' } }),
      onProtocolAnswer: (answer) => reported.push(answer.status),
    });
    const answer = parse(await raw(running.port, bytes));
    expect(answer.statusLine.split(' ')[1]).toBe(String(status));
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.body).toMatchObject({ error: 'invalid_request' });
    expect(reported).toEqual([status]);
  });
});

/** One keep-alive connection that sends a request and reads one answer at a time. */
async function keepAlive(port: number) {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let buffered = '';
  const waiters: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    for (const waiter of waiters.splice(0)) waiter();
  });
  const closed = once(socket, 'close');
  return {
    closed,
    async send(path: string): Promise<ReturnType<typeof parse>> {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        const length = /content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1];
        if (end !== -1 && length !== undefined && buffered.length >= end + 4 + Number(length)) {
          const answer = buffered.slice(0, end + 4 + Number(length));
          buffered = buffered.slice(answer.length);
          return parse(answer);
        }
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

describe('draining', () => {
  it('answers a request that arrives on an idle keep-alive connection with Connection: close, not a reset', async () => {
    const { port } = await start();
    const connection = await keepAlive(port);
    expect((await connection.send('/')).headers.connection).toBe('keep-alive');
    const closing = running?.close(5_000);
    expect(running?.draining).toBe(true);
    const late = await connection.send('/');
    expect(late.body).toEqual({ ok: true });
    expect(late.headers.connection).toBe('close');
    await connection.closed;
    await closing;
  });

  it('tells an answer in flight when draining begins to close its connection', async () => {
    let release: (() => void) | undefined;
    running = await startNodeServer({
      host: '127.0.0.1',
      port: 0,
      handler: () => async () => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return new Response('{"ok":true}', { headers: { 'Content-Type': 'application/json' } });
      },
    });
    const connection = await keepAlive(running.port);
    const answer = connection.send('/');
    await expect.poll(() => release).toBeDefined();
    const closing = running.close(5_000);
    release?.();
    expect((await answer).headers.connection).toBe('close');
    await closing;
  });

  it('lets an in-flight request run for the grace period, and no longer', async () => {
    let arrived = false;
    running = await startNodeServer({
      host: '127.0.0.1',
      port: 0,
      graceMs: 100,
      handler: () => () => {
        arrived = true;
        return new Promise<Response>(() => {});
      },
    });
    const connection = await keepAlive(running.port);
    void connection.send('/').catch(() => {});
    await expect.poll(() => arrived).toBe(true);
    // The request never answers: close() resolves only because the grace cuts it off.
    await running.close();
    await connection.closed;
  });
});

describe('the service on the Node server, wired as serve wires it', () => {
  async function startService() {
    let raw = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        raw += chunk.toString();
        done();
      },
    });
    const config = loadConfig({
      SPOTIFY_CLIENT_ID: 'id',
      SPOTIFY_CLIENT_SECRET: 'secret',
      SPOTIFY_REDIRECT_URI: 'myapp://cb',
      ENCRYPTION_SECRET: SECRET_A,
      LOG_LEVEL: 'info',
    });
    let service: NodeService | undefined;
    const server: RunningServer = await startNodeServer({
      host: '127.0.0.1',
      port: 0,
      graceMs: config.shutdownGraceMs,
      onProtocolAnswer: (answer) => service?.protocolAnswer(answer),
      handler: () => {
        service = createNodeService(config, {
          logger: createNodeLogger('info', sink),
          metrics: createPromMetrics({ defaultMetrics: false }),
          draining: () => server.draining,
        });
        return service.app.fetch;
      },
    });
    running = server;
    return { server, logs: () => raw };
  }

  it('logs and counts the answers given before the app', async () => {
    const { server, logs } = await startService();
    await raw(server.port, 'POST /swap HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 0\r\n\r\n');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(
      /token_swap_http_requests_total\{route="protocol_error",method="-",status="417"\} 1/,
    );
    expect(logs()).toContain('"reason":"expectation"');
  });

  it('says on /readyz that a draining replica is not ready, and only then', async () => {
    const { server } = await startService();
    const connection = await keepAlive(server.port);
    const before = await connection.send('/readyz');
    expect(before.body).toEqual({
      status: 'ready',
      checks: {
        server: { ok: true, detail: 'serving', shared: false },
        upstream: { ok: true, detail: 'circuit breaker closed', shared: true },
      },
    });
    const closing = server.close();
    const during = await connection.send('/readyz');
    expect(during.statusLine).toBe('HTTP/1.1 503 Service Unavailable');
    expect(during.body).toMatchObject({
      status: 'not_ready',
      checks: { server: { ok: false, shared: false } },
    });
    expect(during.headers.connection).toBe('close');
    await closing;
  });
});
