/**
 * Cloudflare Workers entry: `export default { fetch }`. Configuration and secrets come from the
 * Worker's bindings (`[vars]` in wrangler.toml, `wrangler secret put` for secrets).
 *
 * State on Workers: each isolate keeps its own rate-limit counters and refresh single flight in
 * memory (isolates are many and short-lived, so these are best effort). For a real per-address
 * limit across the edge, bind Cloudflare's rate limiting API as SWAP_RATE_LIMITER and
 * REFRESH_RATE_LIMITER: those budgets then decide (their `limit`/`period` in wrangler.toml). The binding
 * reports no counts, so its answers carry RateLimit-Policy but no `RateLimit` field (rate-limit.ts).
 *
 * Revocations and rotations are kept in the LOGINS Durable Object namespace (workers/login-object.ts)
 * when it is bound; without it, `POST /revoke` answers 501 and REFRESH_TOKEN_ROTATION is refused, as on
 * any runtime without a login store. Wrangler wants the object's class exported from `main`: it is.
 */
/// <reference path="./workers/cloudflare-workers.d.ts" />
import * as workers from 'cloudflare:workers';
import type { Context } from 'hono';
import { createMemoryRateLimitStore, type RateLimitStore } from '../server/rate-limit.js';
import { type Built, buildApp, compileRouter, misconfigured, stringVariables } from './portable.js';
import { createDurableObjectLoginStore } from './workers/login-store.js';
import type { DurableObjectNamespace, RateLimitBinding } from './workers/platform.js';

export { LoginObject } from './workers/login-object.js';
export type { RateLimitBinding } from './workers/platform.js';

export type WorkerBindings = Record<string, unknown> & {
  SWAP_RATE_LIMITER?: RateLimitBinding;
  REFRESH_RATE_LIMITER?: RateLimitBinding;
  LOGINS?: DurableObjectNamespace;
};

function bindingStore(bindings: WorkerBindings): RateLimitStore | undefined {
  const swap = bindings.SWAP_RATE_LIMITER;
  const refresh = bindings.REFRESH_RATE_LIMITER;
  if (!swap && !refresh) return undefined;
  // A policy without its binding counts in this isolate, as it would with neither bound.
  const memory = createMemoryRateLimitStore();
  return {
    async increment(clientKey, policy) {
      const binding = policy.name === 'swap' ? swap : refresh;
      if (!binding) return memory.increment(clientKey, policy);
      const { success } = await binding.limit({ key: `${policy.name}:${clientKey}` });
      return { allowed: success, resetMs: policy.windowMs };
    },
  };
}

function build(bindings: WorkerBindings): Built {
  const built = buildApp(stringVariables(bindings), () => ({
    rateLimitStore: bindingStore(bindings),
    clientAddress: (c: Context) => c.req.header('cf-connecting-ip'),
    loginStore: bindings.LOGINS && createDurableObjectLoginStore(bindings.LOGINS),
  }));
  // Here, in the module's start, rather than in the first request (portable.ts).
  if ('app' in built) compileRouter(built.app);
  return built;
}

/**
 * Built at module start where workerd offers the bindings there (`env` of `cloudflare:workers`, workerd
 * from March 2025): the module's start runs before the first request, which then does not pay for
 * the build (docs/benchmarks.md, "Cloudflare Workers"). Where `env` is missing, the first request
 * builds it. Only the build: a request through the app cannot run there, as workerd refuses to make a
 * Response outside a request.
 */
let built: Built | undefined = workers.env === undefined ? undefined : build(workers.env);

export default {
  async fetch(request: Request, bindings: WorkerBindings): Promise<Response> {
    built ??= build(bindings);
    return 'error' in built ? misconfigured(built.error) : built.app.fetch(request, bindings);
  },
};
