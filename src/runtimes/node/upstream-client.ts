/**
 * The Node entry's way to Spotify Accounts: `node:http`/`node:https` over keep-alive agents, in place
 * of the global `fetch`. Node's `fetch` wraps its HTTP client in the WHATWG layers (Request, Headers,
 * body streams) that a form POST and a short JSON answer do not need: per call it cost about three
 * times the CPU of this client, and was the largest share of the service's time under load
 * (docs/benchmarks.md). It behaves as `fetch` does where the service can tell: it resolves when the
 * headers arrive, rejects with the signal's reason when the signal aborts (before or during the
 * body), never follows a redirect, and fails with the same `code`s (ECONNREFUSED, ECONNRESET, ...),
 * so the retry rules in spotify-caller.ts read both alike.
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { UpstreamFetch, UpstreamResponse } from '../../server/upstream.js';

/** A token response is a few hundred bytes; anything near this is not one. */
export const MAX_UPSTREAM_BODY_BYTES = 1024 * 1024;

export interface NodeUpstreamOptions {
  /** How long an idle connection to Spotify Accounts is kept for reuse. */
  idleTimeoutMs?: number;
  /** Extra trusted certificates for HTTPS (tests; in production, NODE_EXTRA_CA_CERTS). */
  ca?: string | Buffer;
}

export interface NodeUpstream {
  fetch: UpstreamFetch;
  /** Closes the idle pooled connections. */
  close(): void;
}

function headerReader(headers: IncomingHttpHeaders): UpstreamResponse['headers'] {
  return {
    get(name) {
      const value = headers[name.toLowerCase()];
      if (value === undefined) return null;
      // What the Fetch standard's Headers.get answers for a repeated header.
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/** An error shaped like Node's own network errors, so that callers can read its `code`. */
function networkError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Reads the whole body as UTF-8; fails on a cut-off or oversized body. */
function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_UPSTREAM_BODY_BYTES) {
        response.destroy(networkError('The upstream answer is too large', 'ERR_UPSTREAM_BODY_TOO_LARGE'));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks, size).toString('utf8')));
    response.on('error', reject);
    response.on('close', () => {
      if (!response.complete) reject(networkError('The connection closed mid-answer', 'ECONNRESET'));
    });
  });
}

export function createNodeUpstream(options: NodeUpstreamOptions = {}): NodeUpstream {
  // Below the 5 s keep-alive of Node servers, so the pool lets a connection go before the server does.
  const idle = { keepAlive: true, timeout: options.idleTimeoutMs ?? 4_000 };
  const httpAgent = new HttpAgent(idle);
  const httpsAgent = new HttpsAgent({ ...idle, ca: options.ca });

  const upstreamFetch: UpstreamFetch = (url, init) =>
    new Promise((resolve, reject) => {
      const { signal } = init;
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const target = new URL(url);
      const https = target.protocol === 'https:';
      // Settles whatever is still pending: the response, or the body once the response was handed out.
      let fail: (error: unknown) => void = reject;
      const onAbort = () => {
        fail(signal.reason);
        outgoing.destroy();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const done = () => signal.removeEventListener('abort', onAbort);

      const outgoing = (https ? httpsRequest : httpRequest)(
        target,
        {
          method: init.method,
          headers: { ...init.headers, 'Content-Length': String(Buffer.byteLength(init.body)) },
          agent: https ? httpsAgent : httpAgent,
        },
        (response) => {
          // From here an abort or a socket error cuts the body short, and text() reports it.
          fail = (error) => response.destroy(error instanceof Error ? error : undefined);
          const text = readBody(response).then(
            (body) => {
              done();
              return body;
            },
            (error: unknown) => {
              done();
              // As fetch's body does: an abort mid-body rejects with the signal's reason.
              throw signal.aborted ? signal.reason : error;
            },
          );
          // Read by text(); a failure nobody reads must not become an unhandled rejection.
          text.catch(() => {});
          resolve({
            status: response.statusCode ?? 0,
            headers: headerReader(response.headers),
            text: () => text,
          });
        },
      );
      outgoing.on('error', (error) => {
        done();
        fail(error);
      });
      outgoing.end(init.body);
    });

  return {
    fetch: upstreamFetch,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
