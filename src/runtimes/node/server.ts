/**
 * The Node.js entry point: serves any fetch handler with @hono/node-server's request listener on a
 * `node:http` server, sets the server timeouts Node leaves generous, answers in JSON what Node and the
 * adapter would answer before the app (protocol-errors.ts), and drains gracefully (shutdown.ts).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, Server as NetServer } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { errorResponse, temporarilyUnavailable } from '../../server/errors.js';
import {
  adapterErrorHandler,
  answerProtocolErrorsAsJson,
  missingHost,
  type OnProtocolAnswer,
} from './protocol-errors.js';

export type { ProtocolAnswer } from './protocol-errors.js';
export type { SignalSource, StopSignal } from './shutdown.js';
export { ShutdownError, stopGracefullyOnSignals } from './shutdown.js';

type FetchHandler = (request: Request, env: unknown) => Response | Promise<Response>;

export const VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

/** When no grace is configured: as long as a request with the default timeouts can take, and a bit. */
const DEFAULT_GRACE_MS = 30_000;
/**
 * How long a draining server keeps idle keep-alive connections open, so that a request a client had
 * already sent on one gets an answer (with `Connection: close`) instead of a reset. Shorter than the
 * keep-alive timeout, after which Node would close them anyway.
 */
const IDLE_DRAIN_MS = 1_000;

export interface NodeServerOptions {
  host: string;
  port: number;
  /**
   * Builds the handler once the socket is bound, so that a handler that needs its own address
   * (the service calling its embedded sandbox) can have it, even with port 0.
   */
  handler: (address: { url: string; port: number }) => FetchHandler;
  /** How long a shutdown lets in-flight requests finish (the service's SHUTDOWN_GRACE_MS). */
  graceMs?: number;
  /** Told of every answer given before the app ran, so that it is logged and counted. */
  onProtocolAnswer?: OnProtocolAnswer;
}

export interface RunningServer {
  server: Server;
  url: string;
  port: number;
  /** True once close() began: answers say `Connection: close`, and readiness says not ready. */
  readonly draining: boolean;
  /**
   * Stops accepting connections, answers what still comes on open ones with `Connection: close`, lets
   * in-flight requests finish (for up to `graceMs`), then resolves; rejects when Node cannot close the
   * server. Calling it again returns the same promise.
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

export function startNodeServer(options: NodeServerOptions): Promise<RunningServer> {
  let handler: FetchHandler | undefined;
  let draining = false;
  // The answers not yet sent: when draining begins, each is told to end its connection.
  const answering = new Set<ServerResponse>();
  const report: OnProtocolAnswer = (answer) => options.onProtocolAnswer?.(answer);
  const listener = getRequestListener(
    (request, env) => {
      const { incoming, outgoing } = env as { incoming: IncomingMessage; outgoing: ServerResponse };
      const refused = missingHost(incoming, report);
      if (refused) return refused;
      if (draining) {
        outgoing.setHeader('Connection', 'close');
      } else {
        answering.add(outgoing);
        outgoing.once('close', () => answering.delete(outgoing));
      }
      return handler ? handler(request, env) : errorResponse(temporarilyUnavailable('Starting; retry', 1));
    },
    { hostname: options.host, errorHandler: adapterErrorHandler(report) },
  );
  const server = createServer({ requireHostHeader: false }, listener);
  // Slowloris and idle-socket hygiene: bound every phase of a request.
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  // No maxRequestsPerSocket: past it Node answers a plain-text 503 to every further request on a
  // connection whose client ignores `Connection: close`.
  server.keepAliveTimeout = 5_000;
  answerProtocolErrorsAsJson(server, report);

  let closing: Promise<void> | undefined;
  const close = (graceMs = options.graceMs ?? DEFAULT_GRACE_MS) =>
    (closing ??= new Promise<void>((done, fail) => {
      draining = true;
      for (const outgoing of answering) if (!outgoing.headersSent) outgoing.setHeader('Connection', 'close');
      const force = setTimeout(() => server.closeAllConnections(), graceMs);
      let sweep: ReturnType<typeof setInterval> | undefined;
      // After the window, what is idle goes (an answer already on its way when draining began may have
      // left its connection open).
      const window = setTimeout(() => {
        server.closeIdleConnections();
        sweep = setInterval(() => server.closeIdleConnections(), 100);
        sweep.unref();
      }, IDLE_DRAIN_MS);
      force.unref();
      window.unref();
      // net.Server's close, not http.Server's (which closes idle connections at once): stop accepting,
      // and let the connections end as described above.
      NetServer.prototype.close.call(server, (error?: Error) => {
        clearTimeout(force);
        clearTimeout(window);
        clearInterval(sweep);
        if (error) fail(error);
        else done();
      });
    }));

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      const url = reachableUrl(options.host, port);
      handler = options.handler({ url, port });
      resolve({
        server,
        url,
        port,
        get draining() {
          return draining;
        },
        close,
      });
    });
  });
}
