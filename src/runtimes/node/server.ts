/**
 * The Node.js entry point: serves any fetch handler with @hono/node-server, sets the server
 * timeouts Node leaves generous, logs with pino, and shuts down gracefully on SIGTERM/SIGINT.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { serve } from '@hono/node-server';
import type { Logger as PinoLogger } from 'pino';
import { invalidRequest } from '../../server/errors.js';

type FetchHandler = (request: Request, env: unknown) => Response | Promise<Response>;

export const VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

export interface NodeServerOptions {
  host: string;
  port: number;
  /**
   * Builds the handler once the socket is bound, so that a handler that needs its own address
   * (the service calling its embedded sandbox) can have it, even with port 0.
   */
  handler: (address: { url: string; port: number }) => FetchHandler;
}

export interface RunningServer {
  server: Server;
  url: string;
  port: number;
  /**
   * Stops accepting, lets in-flight requests finish (for up to `graceMs`), then resolves; rejects
   * when Node cannot close the server. Calling it again returns the same promise.
   */
  close(graceMs?: number): Promise<void>;
}

/** A URL a local client can reach, even when bound to every interface. */
function reachableUrl(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '') {
    return `http://127.0.0.1:${port}`;
  }
  if (host === '::') {
    return `http://[::1]:${port}`;
  }
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

/** What Node's own answer to a request it cannot parse would be, as the JSON every other error is. */
function clientErrorAnswer(code: string | undefined): [status: number, reason: string, description: string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'Request Header Fields Too Large', 'The request headers exceed 16 KiB'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'Request Timeout', 'The request did not arrive in time'];
    default:
      return [400, 'Bad Request', 'The request is not valid HTTP/1.1'];
  }
}

/**
 * Node answers a request it cannot parse (a malformed request line, oversized headers, a request too
 * slow to arrive) before any app runs, in plain text. Answer those as JSON too, so a client's error
 * handling sees `{error, error_description}` whatever went wrong.
 */
function answerClientErrorsAsJson(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // As Node's default handler: nothing for a peer that reset or half-closed, and nothing written into
    // an answer already on its way on this connection (`_httpMessage` is the response in flight).
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, reason, description] = clientErrorAnswer(error.code);
    const body = JSON.stringify(invalidRequest(description).toJSON());
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

export function startNodeServer(options: NodeServerOptions): Promise<RunningServer> {
  let handler: FetchHandler | undefined;
  return new Promise((resolve, reject) => {
    const server = serve({
      fetch: (request, env) => (handler ? handler(request, env) : new Response('starting', { status: 503 })),
      hostname: options.host,
      port: options.port,
    }) as Server;
    // Slowloris and idle-socket hygiene: bound every phase of a request.
    server.headersTimeout = 15_000;
    server.requestTimeout = 30_000;
    // No maxRequestsPerSocket: past it Node answers a plain-text 503 to every further request on a
    // connection whose client ignores `Connection: close`.
    server.keepAliveTimeout = 5_000;
    answerClientErrorsAsJson(server);
    server.once('error', reject);
    server.once('listening', () => {
      const port = (server.address() as AddressInfo).port;
      const url = reachableUrl(options.host, port);
      handler = options.handler({ url, port });
      let closing: Promise<void> | undefined;
      resolve({
        server,
        url,
        port,
        // Once: a second call (a signal during shutdown, a test's teardown) waits for the same close.
        close: (graceMs = 10_000) =>
          (closing ??= new Promise<void>((done, fail) => {
            const force = setTimeout(() => server.closeAllConnections(), graceMs);
            // A keep-alive socket turns idle once its in-flight request is answered; close it then
            // rather than after keepAliveTimeout.
            const sweep = setInterval(() => server.closeIdleConnections(), 50);
            force.unref();
            sweep.unref();
            server.close((error) => {
              clearTimeout(force);
              clearInterval(sweep);
              if (error) fail(error);
              else done();
            });
            server.closeIdleConnections();
          })),
      });
    });
  });
}

/** Why a graceful shutdown did not end well: a second signal, or a failing close or cleanup. */
export class ShutdownError extends Error {
  override readonly name = 'ShutdownError';
  readonly code: 'interrupted' | 'failed';

  constructor(code: 'interrupted' | 'failed', message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

export type StopSignal = 'SIGINT' | 'SIGTERM';

/** `process`, or an EventEmitter in tests: where SIGINT and SIGTERM come from. */
export interface SignalSource {
  on(signal: StopSignal, listener: (signal: StopSignal) => void): unknown;
  off(signal: StopSignal, listener: (signal: StopSignal) => void): unknown;
}

/**
 * SIGTERM/SIGINT: stop accepting, finish in-flight requests, run `cleanup`, then resolve, so that the
 * caller exits 0. It rejects with a ShutdownError when closing or the cleanup fails, and at once on
 * a second signal; it never leaves the caller waiting on a shutdown that went wrong. The caller
 * exits: this only reports.
 */
export function stopGracefullyOnSignals(
  running: RunningServer,
  logger: PinoLogger,
  cleanup?: () => Promise<void> | void,
  signals: SignalSource = process,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopping = false;
    const settle = (error?: ShutdownError) => {
      signals.off('SIGTERM', stop);
      signals.off('SIGINT', stop);
      logger.flush();
      if (error) reject(error);
      else resolve();
    };
    function stop(signal: StopSignal) {
      if (stopping) {
        logger.warn({ signal }, 'second signal: stopping at once');
        settle(
          new ShutdownError('interrupted', `${signal} again: stopped without finishing in-flight requests`),
        );
        return;
      }
      stopping = true;
      logger.info({ signal }, 'shutting down: finishing in-flight requests');
      const stopped = (async () => {
        try {
          await running.close();
        } finally {
          // Released even when closing failed: the process is about to end either way.
          await cleanup?.();
        }
      })();
      stopped.then(
        () => {
          logger.info({}, 'stopped');
          settle();
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          const reason = error instanceof Error ? error.message : String(error);
          settle(new ShutdownError('failed', `could not shut down cleanly: ${reason}`, { cause: error }));
        },
      );
    }
    signals.on('SIGTERM', stop);
    signals.on('SIGINT', stop);
  });
}
