/**
 * HTTP/1.1 at the byte level, for the client conformance tests (test/clients/): send exactly the bytes
 * a real client sends, read the answer as it came off the socket, and record what a real client (the
 * CLI, Chromium) sends through a transparent proxy. `fetch` cannot do this: it adds and normalizes
 * headers, and hides how they were written.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

type HeaderLines = readonly (readonly [string, string])[];

export interface RawRequest {
  method: string;
  target: string;
  /** Header lines in the order and letter case they were written. */
  headers: HeaderLines;
  body: Buffer;
}

export interface RawResponse {
  status: number;
  /** Header lines in the order and letter case they were written. */
  headers: HeaderLines;
  body: Buffer;
  /** Every value of a header, matched case-insensitively. */
  all(name: string): string[];
  /** The one value of a header; throws when it was sent more than once. */
  header(name: string): string | undefined;
  text(): string;
  json(): unknown;
}

/** Writes a request exactly as given: request line, header lines in order, blank line, body. */
export function formatRequest(request: RawRequest): Buffer {
  const head = [
    `${request.method} ${request.target} HTTP/1.1`,
    ...request.headers.map(([n, v]) => `${n}: ${v}`),
  ];
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), request.body]);
}

/** `host:port` of a base URL, as a client writes it in `Host`. */
export function hostOf(url: string): string {
  return new URL(url).host;
}

function parseHeaderLines(lines: string[]): [string, string][] {
  return lines.map((line) => {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line: ${JSON.stringify(line)}`);
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
}

function valuesOf(headers: HeaderLines, name: string): string[] {
  const lower = name.toLowerCase();
  return headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

/** Decodes a chunked body; undefined while it is incomplete. */
function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd === -1) return undefined;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    if (Number.isNaN(size)) throw new Error('malformed chunk size');
    const start = lineEnd + 2;
    if (size === 0) {
      // The last chunk, then optional trailer lines, then an empty line.
      return data.indexOf('\r\n\r\n', lineEnd) === -1 ? undefined : Buffer.concat(parts);
    }
    if (data.length < start + size + 2) return undefined;
    parts.push(data.subarray(start, start + size));
    offset = start + size + 2;
  }
}

interface Framed {
  startLine: string;
  headers: [string, string][];
  body: Buffer;
  /** Bytes this message took from the buffer. */
  length: number;
}

/**
 * Frames one HTTP/1.1 message from the start of `data`; undefined while it is incomplete. With neither
 * Content-Length nor chunking, a response runs to the end of the connection (`ended`).
 */
function frame(data: Buffer, kind: 'request' | 'response', ended: boolean): Framed | undefined {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd === -1) return undefined;
  const [startLine = '', ...lines] = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const headers = parseHeaderLines(lines);
  const rest = data.subarray(headEnd + 4);
  const status = kind === 'response' ? Number(startLine.split(' ')[1]) : 0;
  const bodiless = status === 204 || status === 304 || (status >= 100 && status < 200);
  const length = valuesOf(headers, 'content-length')[0];
  const chunked = valuesOf(headers, 'transfer-encoding').some((v) => /chunked/i.test(v));
  if (bodiless) return { startLine, headers, body: Buffer.alloc(0), length: headEnd + 4 };
  if (chunked) {
    const body = dechunk(rest);
    // A test reads one answer per connection, so the chunked body runs to the end of what arrived.
    return body === undefined ? undefined : { startLine, headers, body, length: data.length };
  }
  if (length !== undefined) {
    const size = Number(length);
    return rest.length < size
      ? undefined
      : { startLine, headers, body: rest.subarray(0, size), length: headEnd + 4 + size };
  }
  if (kind === 'request') return { startLine, headers, body: Buffer.alloc(0), length: headEnd + 4 };
  return ended ? { startLine, headers, body: rest, length: data.length } : undefined;
}

function toResponse(framed: Framed): RawResponse {
  const { headers, body } = framed;
  const status = Number(framed.startLine.split(' ')[1]);
  return {
    status,
    headers,
    body,
    all: (name) => valuesOf(headers, name),
    header(name) {
      const values = valuesOf(headers, name);
      if (values.length > 1) throw new Error(`${name} was sent ${values.length} times`);
      return values[0];
    },
    text: () => body.toString('utf8'),
    json: () => JSON.parse(body.toString('utf8')) as unknown,
  };
}

export interface SendOptions {
  timeoutMs?: number;
  /**
   * Written after the request head, once the server sends `100 Continue` or `continueTimeoutMs` has
   * passed: what a client sending `Expect: 100-continue` does.
   */
  deferredBody?: Buffer;
  continueTimeoutMs?: number;
}

/**
 * Opens a connection to `baseUrl`, writes `bytes` as they are, and reads one final response (interim
 * 1xx answers are noted in `interim`). The connection is closed afterwards, as a client that is done
 * with it would.
 */
export function sendRaw(
  baseUrl: string,
  bytes: Buffer,
  options: SendOptions = {},
): Promise<RawResponse & { interim: number[] }> {
  const { hostname, port } = new URL(baseUrl);
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let data = Buffer.alloc(0);
    const interim: number[] = [];
    let deferred = options.deferredBody;
    const sendDeferred = () => {
      if (deferred !== undefined) {
        socket.write(deferred);
        deferred = undefined;
      }
    };
    const continueTimer =
      deferred === undefined ? undefined : setTimeout(sendDeferred, options.continueTimeoutMs ?? 350);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within ${timeoutMs} ms; got: ${data.toString('latin1')}`));
    }, timeoutMs);
    let done = false;
    const settle = () => {
      done = true;
      clearTimeout(timer);
      clearTimeout(continueTimer);
      socket.destroy();
    };
    const finish = (ended: boolean) => {
      if (done) return;
      for (;;) {
        let framed: Framed | undefined;
        try {
          framed = frame(data, 'response', ended);
        } catch (error) {
          settle();
          reject(error);
          return;
        }
        if (!framed) break;
        const status = Number(framed.startLine.split(' ')[1]);
        if (status >= 200) {
          settle();
          resolve({ ...toResponse(framed), interim });
          return;
        }
        interim.push(status);
        data = data.subarray(framed.length);
        if (status === 100) sendDeferred();
      }
      if (ended) {
        settle();
        reject(new Error(`connection ended before a complete response: ${data.toString('latin1')}`));
      }
    };
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('error', (error) => {
      settle();
      reject(error);
    });
    socket.write(bytes);
  });
}

/** Sends a request given as parts; see formatRequest. */
export function send(baseUrl: string, request: RawRequest): Promise<RawResponse> {
  return sendRaw(baseUrl, formatRequest(request));
}

/** Splits what a client wrote on one connection into its requests. */
function parseRequests(data: Buffer): RawRequest[] {
  const requests: RawRequest[] = [];
  let rest = data;
  for (;;) {
    const framed = rest.length === 0 ? undefined : frame(rest, 'request', true);
    if (!framed) break;
    const [method = '', target = ''] = framed.startLine.split(' ');
    requests.push({ method, target, headers: framed.headers, body: framed.body });
    rest = rest.subarray(framed.length);
  }
  return requests;
}

export interface RecordingProxy {
  /** Base URL of the proxy, e.g. `http://127.0.0.1:43123`: point the real client here. */
  url: string;
  /** Every request the clients wrote so far, in order, exactly as written. */
  requests(): RawRequest[];
  close(): Promise<void>;
}

/**
 * A transparent TCP proxy in front of `targetUrl` that records every byte clients write. The client
 * under test talks to the real service through it, so the test sees both the client's exact request
 * and the service's real answer.
 */
export async function startRecordingProxy(targetUrl: string): Promise<RecordingProxy> {
  const target = new URL(targetUrl);
  const connections: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const written: Buffer[] = [];
    connections.push(written);
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (chunk: Buffer) => {
      written.push(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests: () => connections.flatMap((chunks) => parseRequests(Buffer.concat(chunks))),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The form fields of a request body, in order, decoded. */
export function formFields(body: Buffer): [string, string][] {
  return [...new URLSearchParams(body.toString('latin1'))];
}

/** True when the exact JSON text carries `name` as an integer number literal (no quotes, no fraction). */
export function hasIntegerLiteral(jsonText: string, name: string): boolean {
  return new RegExp(`"${name}":(0|[1-9][0-9]*)[,}]`).test(jsonText);
}
