/**
 * The Node server wrapper (src/runtimes/node/server.ts): requests Node cannot parse get the JSON error
 * every other failure gets, not Node's plain-text answer, and the server keeps serving.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningServer, startNodeServer } from '../src/runtimes/node/server.js';

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
