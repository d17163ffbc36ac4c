/**
 * A peer that answers what an attacker would: a plain `node:http` server on 127.0.0.1, so that what it
 * sends reaches the client byte for byte (no framework that would fix up a header or a body).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFileStore } from '../../src/client/node/index.js';

export interface HostilePeer {
  url: string;
  /** Requests received so far, in order. */
  requests: { method: string; path: string; body: string }[];
  close(): Promise<void>;
}

export type HostileHandler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

export async function startHostilePeer(handler: HostileHandler): Promise<HostilePeer> {
  const requests: HostilePeer['requests'] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      // What the client sends is small; a test never needs more than the start of it.
      if (body.length < 65_536) body += chunk;
    });
    request.on('end', () => {
      requests.push({ method: request.method ?? '', path: request.url ?? '', body });
      handler(request, response, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers `body` as JSON with `status`. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(text);
}

/**
 * A stored login at `path` whose refresh goes to `swapUrl` (its access token expired, so the next
 * `token` or `refresh` asks for a new one) and whose profile comes from `apiUrl`.
 */
export async function storedLogin(
  path: string,
  options: { swapUrl: string; apiUrl?: string; expired?: boolean },
): Promise<void> {
  await createFileStore(path).save({
    swapUrl: options.swapUrl,
    clientId: 'sandbox-client-id',
    ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
    tokens: {
      accessToken: 'BQstored-access-token',
      tokenType: 'Bearer',
      scopes: ['user-read-email'],
      expiresAt: options.expired === false ? Date.now() + 3_600_000 : Date.now() - 1_000,
      refreshToken: 'sts2.stored-refresh-token',
    },
  });
}
