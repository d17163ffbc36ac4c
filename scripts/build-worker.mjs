#!/usr/bin/env node
/**
 * Bundles the Cloudflare Workers entry (src/runtimes/workers.ts) with everything it imports (hono,
 * zod, the service core) into one ES module, dist/worker/index.js, that workerd runs as is (`main`
 * in wrangler.toml, or `scriptPath` in Miniflare). The core uses Web APIs only, so the bundle is built
 * for no platform and needs no `nodejs_compat` flag: an import of a Node built-in fails this build
 * instead of failing at the edge.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

await build({
  absWorkingDir: fileURLToPath(new URL('..', import.meta.url)),
  entryPoints: ['src/runtimes/workers.ts'],
  outfile: 'dist/worker/index.js',
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  // workerd's and browsers' builds where a package has them, then its ES module build.
  conditions: ['workerd', 'worker', 'browser', 'import'],
  mainFields: ['module', 'main'],
  target: 'es2022',
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
