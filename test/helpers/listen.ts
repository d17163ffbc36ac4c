import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';

export interface Listening {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:43123`. */
  url: string;
  port: number;
  server: ServerType;
  close(): Promise<void>;
}

type FetchHandler = (request: Request, env?: unknown) => Response | Promise<Response>;

/** Serves a fetch handler on an ephemeral loopback port: a real socket, as the tests require. */
export async function listen(fetch: FetchHandler): Promise<Listening> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      const url = `http://127.0.0.1:${info.port}`;
      resolve({
        url,
        port: info.port,
        server,
        close: () =>
          new Promise<void>((done) => {
            if ('closeAllConnections' in server) {
              server.closeAllConnections();
            }
            server.close(() => done());
          }),
      });
    });
  });
}
