/**
 * Bun entry: `bun dist/runtimes/bun.js`. Rate limits and refresh single flight are kept in this
 * process's memory.
 */
import type { Context } from 'hono';
import { createMemoryLoginStore } from '../server/logins/store.js';
import { buildApp } from './portable.js';

declare const Bun: {
  serve(options: {
    port: number;
    hostname: string;
    fetch: (
      request: Request,
      server: { requestIP(request: Request): { address: string } | null },
    ) => Response | Promise<Response>;
  }): { port: number; hostname: string; stop(closeActiveConnections?: boolean): void };
};
declare const process: {
  env: Record<string, string | undefined>;
  exit(code: number): never;
  on(signal: string, handler: () => void): void;
};

const built = buildApp(process.env, () => ({
  // A long-running process: revocations and rotations are kept in its memory (logins/store.ts).
  loginStore: createMemoryLoginStore(),
  clientAddress: (c: Context) => (c.env as { ip?: string } | undefined)?.ip,
}));
if ('error' in built) {
  process.exit(1);
}
const { app, config } = built;

const server = Bun.serve({
  port: config.port,
  hostname: config.host,
  fetch: (request, bunServer) => app.fetch(request, { ip: bunServer.requestIP(request)?.address }),
});
console.error(`spotify-token-swap (Bun) listening on http://${server.hostname}:${server.port}`);
for (const signal of ['SIGTERM', 'SIGINT']) {
  // stop(false) stops accepting and lets in-flight requests finish.
  process.on(signal, () => server.stop(false));
}
