/**
 * The Node entry's way to Spotify Accounts: undici's `request` over a keep-alive pool, in place of the
 * global `fetch`. Node's `fetch` is undici too, wrapped in the WHATWG layers (Request, Headers, body
 * streams) that a form POST and a short JSON answer do not need; under load those layers were the
 * largest share of the service's CPU time (docs/benchmarks.md). Same connection pool semantics, same
 * error codes, so the retry rules in spotify-caller.ts read both alike.
 */
import { Agent, request } from 'undici';
import type { UpstreamFetch, UpstreamResponse } from '../../server/upstream.js';

export interface UndiciUpstreamOptions {
  /** How long an idle connection to Spotify Accounts is kept for reuse. */
  keepAliveTimeoutMs?: number;
}

export interface UndiciUpstream {
  fetch: UpstreamFetch;
  /** Closes the pooled connections; in-flight calls finish first. */
  close(): Promise<void>;
}

type IncomingHeaders = Record<string, string | string[] | undefined>;

function headerReader(headers: IncomingHeaders): UpstreamResponse['headers'] {
  return {
    get(name) {
      const value = headers[name.toLowerCase()];
      if (value === undefined) return null;
      // What the Fetch standard's Headers.get answers for a repeated header.
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

export function createUndiciUpstream(options: UndiciUpstreamOptions = {}): UndiciUpstream {
  const dispatcher = new Agent({
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
    // Node's fetch has the same default; only a body-less response can be pipelined safely anyway.
    pipelining: 1,
  });
  return {
    async fetch(url, init) {
      // undici's request never follows redirects (fetch's `redirect: 'manual'`), and rejects with the
      // signal's reason when it aborts, as fetch does.
      const { statusCode, headers, body } = await request(url, {
        method: init.method,
        headers: init.headers,
        body: init.body,
        signal: init.signal,
        dispatcher,
      });
      return { status: statusCode, headers: headerReader(headers), text: () => body.text() };
    },
    close: () => dispatcher.close(),
  };
}
