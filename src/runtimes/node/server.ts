/**
 * The Node.js entry point: serves any fetch handler with @hono/node-server, sets the server
 * timeouts Node leaves generous, logs with pino, and shuts down gracefully on SIGTERM/SIGINT.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Logger as PinoLogger } from 'pino';

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
  /** Stops accepting, lets in-flight requests finish, then resolves. */
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
    server.once('error', reject);
    server.once('listening', () => {
      const port = (server.address() as AddressInfo).port;
      const url = reachableUrl(options.host, port);
      handler = options.handler({ url, port });
      resolve({
        server,
        url,
        port,
        close: (graceMs = 10_000) =>
          new Promise<void>((done) => {
            const force = setTimeout(() => server.closeAllConnections(), graceMs);
            // A keep-alive socket turns idle once its in-flight request is answered; close it then
            // rather than after keepAliveTimeout.
            const sweep = setInterval(() => server.closeIdleConnections(), 50);
            force.unref();
            sweep.unref();
            server.close(() => {
              clearTimeout(force);
              clearInterval(sweep);
              done();
            });
            server.closeIdleConnections();
          }),
      });
    });
  });
}

/** SIGTERM/SIGINT: stop accepting, finish in-flight requests, exit 0. A second signal exits at once. */
export function exitGracefullyOnSignals(
  running: RunningServer,
  logger: PinoLogger,
  cleanup?: () => Promise<void> | void,
): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    running
      .close()
      .then(async () => {
        await cleanup?.();
      })
      .then(() => {
        logger.info({}, 'stopped');
        logger.flush();
        process.exit(0);
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
