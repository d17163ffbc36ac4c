/**
 * Deno entry: `deno run --allow-net --allow-env dist/runtimes/deno.js` (or `deno task start`).
 * Rate limits and refresh single flight are kept in this process's memory.
 */
import type { Context } from 'hono';
import { createMemoryLoginStore } from '../server/logins/store.js';
import { buildApp } from './portable.js';

declare const Deno: {
  env: { toObject(): Record<string, string> };
  serve(
    options: {
      port: number;
      hostname: string;
      onListen?: (address: { hostname: string; port: number }) => void;
    },
    handler: (request: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): { finished: Promise<void>; shutdown(): Promise<void> };
  addSignalListener(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void;
  exit(code: number): never;
};

/**
 * Deno's fetch sends a request a second time by itself when the connection drops before the answer
 * (denoland/deno#35610), so a code exchange that Spotify may already have spent would go out twice.
 * It never replays a streamed body: sent as a stream, each call leaves once and retries stay with
 * the service's own policy (src/server/upstream/policy.ts), as on Node.
 */
const fetchOnce: typeof fetch = (input, init) => {
  const request = new Request(input, init);
  if (request.body === null) return fetch(request);
  return fetch(request, {
    body: request.body.pipeThrough(new TransformStream()),
    duplex: 'half',
  } as RequestInit);
};

const built = buildApp(Deno.env.toObject(), () => ({
  // A long-running process: revocations and rotations are kept in its memory (logins/store.ts).
  loginStore: createMemoryLoginStore(),
  fetch: fetchOnce,
  clientAddress: (c: Context) =>
    (c.env as { remoteAddr?: { hostname: string } } | undefined)?.remoteAddr?.hostname,
}));

if ('error' in built) {
  // buildApp printed what to fix.
  Deno.exit(1);
}
const { app, config } = built;
const server = Deno.serve(
  {
    port: config.port,
    hostname: config.host,
    onListen: ({ hostname, port }) =>
      console.error(`spotify-token-swap (Deno) listening on http://${hostname}:${port}`),
  },
  (request, info) => app.fetch(request, info),
);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  // shutdown() stops accepting and lets in-flight requests finish.
  Deno.addSignalListener(signal, () => void server.shutdown());
}
