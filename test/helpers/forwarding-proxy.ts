/**
 * A reverse proxy on 127.0.0.1 that forwards every request to `target` as nginx or a tunnel in front
 * of an exposed sandbox does: with the client's address in `X-Forwarded-For`. Through it, a request
 * from this machine reaches the target as one from another machine would.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ForwardingProxy {
  url: string;
  close(): Promise<void>;
}

export async function startForwardingProxy(
  target: string,
  clientAddress = '203.0.113.7',
): Promise<ForwardingProxy> {
  const server = createServer((incoming, outgoing) => {
    const upstream = request(
      new URL(incoming.url ?? '/', target),
      {
        method: incoming.method,
        headers: { ...incoming.headers, host: new URL(target).host, 'x-forwarded-for': clientAddress },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
