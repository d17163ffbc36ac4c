/**
 * The Node entry's way to Spotify Accounts: `node:http`/`node:https` over keep-alive agents, in place
 * of the global `fetch`. Node's `fetch` wraps its HTTP client in the WHATWG layers (Request, Headers,
 * body streams) that a form POST and a short JSON answer do not need: per call it cost about three
 * times the CPU of this client, and was the largest share of the service's time under load
 * (docs/benchmarks.md). It behaves as `fetch` does where the service can tell: it resolves when the
 * headers arrive, rejects with the signal's reason when the signal aborts (before or during the
 * body), or with a `TimeoutError` once `init.timeoutMs` has passed (one timer for every call in
 * flight: deadlines.ts), never follows a redirect, and fails with the same `code`s (ECONNREFUSED, ECONNRESET, ...),
 * so the retry rules in src/server/upstream/policy.ts read both alike.
 */
import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type RequestOptions,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { urlToHttpOptions } from 'node:url';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type {
  UpstreamFetch,
  UpstreamRequestInit,
  UpstreamResponse,
} from '../../server/upstream/token-request.js';
import { createDeadlines } from './deadlines.js';

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

const utf8 = new TextDecoder();

/** Undoes a content coding a server applied although the request asked for none (RFC 9110 §12.5.3). */
function decode(body: Buffer, coding: string | undefined): Buffer {
  const limits = { maxOutputLength: MAX_UPSTREAM_BODY_BYTES };
  switch (coding?.trim().toLowerCase()) {
    case undefined:
    case '':
    case 'identity':
      return body;
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(body, limits);
    case 'deflate':
      return inflateSync(body, limits);
    case 'br':
      return brotliDecompressSync(body, limits);
    default:
      throw networkError(
        `The upstream answer has an unknown content coding: ${coding}`,
        'ERR_UPSTREAM_CODING',
      );
  }
}

/**
 * Reads the whole body and decodes it as fetch's text() does: UTF-8, a leading byte order mark
 * dropped, invalid bytes as U+FFFD. Fails on a cut-off, oversized or undecodable body.
 */
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
    response.on('end', () => {
      try {
        const coding = response.headers['content-encoding'];
        resolve(utf8.decode(decode(Buffer.concat(chunks, size), coding)));
      } catch (error) {
        reject(error);
      }
    });
    response.on('error', reject);
    response.on('close', () => {
      if (!response.complete) reject(networkError('The connection closed mid-answer', 'ECONNRESET'));
    });
  });
}

/** What a deadline ends a call with: the error `fetch` rejects with on `AbortSignal.timeout`. */
const timedOut = () => new DOMException('The upstream call timed out', 'TimeoutError');

interface Endpoint {
  https: boolean;
  options: RequestOptions;
}

/** At most this many distinct URLs are kept parsed: the service calls one per Spotify Accounts base. */
const MAX_PARSED_URLS = 64;

export function createNodeUpstream(options: NodeUpstreamOptions = {}): NodeUpstream {
  // Below the 5 s keep-alive of Node servers, so the pool lets a connection go before the server does.
  const idle = { keepAlive: true, timeout: options.idleTimeoutMs ?? 4_000 };
  const httpAgent = new HttpAgent(idle);
  const httpsAgent = new HttpsAgent({ ...idle, ca: options.ca });
  const deadlines = createDeadlines();
  // Parsed once per URL, not once per call.
  const endpoints = new Map<string, Endpoint>();
  const endpointOf = (url: string): Endpoint => {
    let endpoint = endpoints.get(url);
    if (endpoint === undefined) {
      const target = new URL(url);
      const https = target.protocol === 'https:';
      endpoint = { https, options: { ...urlToHttpOptions(target), agent: https ? httpsAgent : httpAgent } };
      if (endpoints.size < MAX_PARSED_URLS) endpoints.set(url, endpoint);
    }
    return endpoint;
  };

  const call = (url: string, init: UpstreamRequestInit) =>
    new Promise<UpstreamResponse>((resolve, reject) => {
      const { signal } = init;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      // Settles whatever is still pending: the response, or the body once the response was handed out.
      let fail: (error: unknown) => void = reject;
      let outgoing: ClientRequest | undefined;
      // Why the call was ended, by the signal or the deadline: what the body read rejects with then.
      let ended: { reason: unknown } | undefined;
      const end = (reason: unknown) => {
        ended = { reason };
        fail(reason);
        outgoing?.destroy();
      };
      const onAbort = () => end(signal?.reason);
      const deadline =
        init.timeoutMs === undefined ? undefined : deadlines.add(init.timeoutMs, () => end(timedOut()));
      const done = () => {
        signal?.removeEventListener('abort', onAbort);
        if (deadline) deadlines.clear(deadline);
      };
      try {
        const endpoint = endpointOf(url);
        outgoing = (endpoint.https ? httpsRequest : httpRequest)(
          {
            ...endpoint.options,
            method: init.method,
            headers: {
              ...init.headers,
              'Content-Length': String(Buffer.byteLength(init.body)),
              // Token answers are small: no compression asked for (decode() undoes any applied anyway).
              'Accept-Encoding': 'identity',
            },
          },
          (response) => {
            // From here an abort or a socket error cuts the body short, and text() reports it.
            fail = (error) => response.destroy(error instanceof Error ? error : undefined);
            const text = readBody(response)
              .catch((error: unknown) => {
                // As fetch's body does: an abort mid-body rejects with the signal's reason.
                throw ended ? ended.reason : error;
              })
              .finally(done);
            // Read by text(); a failure nobody reads must not become an unhandled rejection.
            text.catch(() => {});
            resolve({
              status: response.statusCode ?? 0,
              headers: headerReader(response.headers),
              text: () => text,
            });
          },
        );
      } catch (error) {
        // node:http refuses some requests synchronously (an invalid header, an unknown protocol).
        done();
        reject(error);
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      outgoing.on('error', (error: Error) => {
        done();
        fail(error);
      });
      outgoing.end(init.body);
    });

  return {
    // It keeps `init.timeoutMs` itself, so the caller needs no AbortController per call.
    fetch: Object.assign(call, { enforcesTimeout: true as const }),
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
