/**
 * What the Worker owes the Workers platform itself, in workerd: the bundle Wrangler deploys is the one
 * the tests run, and within the size budget; the app is built at module start, not inside the first
 * request (docs/benchmarks.md, "Cloudflare Workers"); and with Cloudflare's rate limiting bindings, which
 * say only yes or no, the RateLimit headers claim no count they do not have.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConformanceSandbox, conformanceEnv, startConformanceSandbox } from '../conformance/suite.js';
import { MINIFLARE_MAJOR } from './binaries.js';
import { expectNoSecrets } from './secrets.js';
import {
  buildWorker,
  disposeAll,
  dryRunDirectory,
  startWorker,
  wrangler,
  wranglerDryRun,
} from './workers-miniflare.js';

/** docs/benchmarks.md, "Cloudflare Workers": less for a fresh isolate to load. */
const MAX_BUNDLE_BYTES = 250 * 1024;

let sandbox: ConformanceSandbox | undefined;
let bundle = '';

beforeAll(async () => {
  bundle = await buildWorker();
  sandbox = await startConformanceSandbox();
});
afterAll(async () => {
  await disposeAll();
  await sandbox?.close();
});

const swap = (url: URL) =>
  fetch(new URL('/swap', url), { method: 'POST', body: new URLSearchParams({ code: 'not-a-code' }) });

describe(`the Worker bundle (Miniflare ${MINIFLARE_MAJOR})`, () => {
  it('is at most 250 KB', () => {
    expect(statSync(bundle).size).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
  });

  // Wrangler 4 needs Node 22 or newer: this runs in .ci/run's Node 22 and Node 26 passes.
  it.runIf(MINIFLARE_MAJOR === 4)(
    'is what `wrangler deploy` uploads: its dry run of wrangler.toml',
    async () => {
      const dryRun = await wranglerDryRun(dryRunDirectory());
      expect(dryRun.output).toContain(`[custom build] Running: ${wrangler.build.command}`);
      expect(readFileSync(dryRun.module)).toEqual(readFileSync(join(process.cwd(), wrangler.main)));
      expectNoSecrets(dryRun.output);
    },
  );
});

describe('the Worker at module start', () => {
  it('builds the app before the first request: a configuration error is logged with no request sent', async () => {
    const { SPOTIFY_CLIENT_SECRET: _, ...incomplete } = conformanceEnv(sandbox?.accountsUrl ?? '');
    const worker = await startWorker(incomplete, { logins: false });
    await expect
      .poll(() => worker.output(), { timeout: 10_000 })
      .toMatch(/token-swap: Invalid configuration:[\s\S]*SPOTIFY_CLIENT_SECRET/);
  });
});

describe('the RateLimit headers on Workers', () => {
  const env = () => ({ ...conformanceEnv(sandbox?.accountsUrl ?? ''), RATE_LIMIT_SWAP_PER_MINUTE: '2' });

  it("with Cloudflare's binding: the policy, no remaining count, and the whole window as Retry-After", async () => {
    const worker = await startWorker(env(), {
      logins: false,
      // Miniflare 4 wants the namespace too, as wrangler.toml has it; Miniflare 3 ignores it.
      ratelimits: { SWAP_RATE_LIMITER: { namespace_id: '1001', simple: { limit: 2, period: 60 } } },
    });
    // Miniflare's binding counts in windows of the wall clock (its buckets are cleared when
    // `Date.now() / period` changes), not from the first hit: three swaps across a minute's end would
    // meet two windows. Within 5 s of one, they wait for it (three swaps take a fraction of that).
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((resolve) => setTimeout(resolve, 60_100 - intoMinute));
    const answers = [];
    for (let i = 0; i < 3; i += 1) answers.push(await swap(worker.url));
    expect(answers.map((answer) => answer.status)).toEqual([400, 400, 429]);
    for (const answer of answers) {
      expect(answer.headers.get('ratelimit-policy')).toBe('swap;q=2;w=60');
      expect(answer.headers.get('ratelimit')).toBeNull();
    }
    expect(answers[2]?.headers.get('retry-after')).toBe('60');
    expect((await answers[2]?.json()) as unknown).toMatchObject({ error: 'rate_limited' });
  });

  it("without it: each isolate counts, so the remaining count is the isolate's own", async () => {
    const worker = await startWorker(env(), { logins: false });
    const first = await swap(worker.url);
    expect(first.headers.get('ratelimit-policy')).toBe('swap;q=2;w=60');
    expect(first.headers.get('ratelimit')).toMatch(/^swap;r=1;t=(59|60)$/);
  });
});
