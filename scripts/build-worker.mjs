#!/usr/bin/env node
/**
 * Bundles the Cloudflare Workers entry (src/runtimes/workers.ts) with everything it imports (hono,
 * zod, the service core) into one ES module, dist/worker/index.js, that workerd runs as is (`main`
 * in wrangler.toml, or `scriptPath` in Miniflare). The core uses Web APIs only, so the bundle is built
 * for no platform and needs no `nodejs_compat` flag: an import of a Node built-in fails this build
 * instead of failing at the edge.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// Written to a temporary file and renamed: test files that build in parallel never read a half-written
// bundle (a rename is atomic on one file system).
const { outputFiles } = await build({
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
  // workerd's own modules, resolved by workerd at load time.
  external: ['cloudflare:*'],
  // Minified, the bundle is less than half as large: less for each fresh isolate to parse, and within
  // the Worker size budget of docs/benchmarks.md ("Cloudflare Workers"). The source map keeps stack
  // traces readable.
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  write: false,
});
for (const file of outputFiles) {
  mkdirSync(dirname(file.path), { recursive: true });
  const temporary = `${file.path}.${process.pid}.tmp`;
  writeFileSync(temporary, file.contents);
  renameSync(temporary, file.path);
}
