#!/usr/bin/env node
/**
 * Bundles the AWS Lambda entry (src/runtimes/lambda.ts) with everything it imports (hono, zod, the
 * service core) into one ES module, dist/lambda/index.mjs: the function's code needs no
 * node_modules, and Lambda reads one file instead of resolving and parsing hundreds
 * (docs/benchmarks.md, "AWS Lambda"). Then zips that folder into build/lambda.zip, the package
 * template.yaml deploys (CodeUri, Handler `index.handler`) and test/runtimes/lambda.test.ts runs.
 *
 * ioredis is bundled too, but into a file of its own, dist/lambda/node_modules/ioredis/index.js:
 * the entry loads it with `require('ioredis')` only when REDIS_URL is set
 * (src/runtimes/node/redis/connection.ts), and Node's resolution finds it there. An environment
 * without Redis never reads it; inlined, it would cost every cold start (docs/benchmarks.md).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = 'dist/lambda';

const common = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  // Lambda's oldest runtime this package supports (package.json engines).
  target: 'node20',
  // A smaller file parses faster: about a tenth off the import (docs/benchmarks.md). The source map
  // beside it turns stack traces back into src/ lines with NODE_OPTIONS=--enable-source-maps.
  minify: true,
  sourcemap: 'linked',
  // Line numbers are all a stack trace needs; the sources are in the repository.
  sourcesContent: false,
  legalComments: 'none',
  logLevel: 'warning',
  write: false,
};

const entry = await build({
  ...common,
  entryPoints: ['src/runtimes/lambda.ts'],
  outfile: `${OUT}/index.mjs`,
  format: 'esm',
  // Only what the lazy require above names stays outside: the build fails on any other
  // package missing from the bundle instead of the function failing at its first event.
  external: ['ioredis'],
  // CommonJS packages in an ES module bundle still call `require` for Node built-ins.
  banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
});
const redis = await build({
  ...common,
  entryPoints: ['ioredis'],
  outfile: `${OUT}/node_modules/ioredis/index.js`,
  format: 'cjs',
});
// Its own package.json: the file is CommonJS whatever package.json lies above dist/ (this
// repository's says "type": "module").
const redisManifest = {
  path: `${ROOT}${OUT}/node_modules/ioredis/package.json`,
  contents: Buffer.from(`${JSON.stringify({ name: 'ioredis', type: 'commonjs', main: 'index.js' })}\n`),
};

// Written to temporary files and renamed: a test that builds while another imports never reads a
// half-written bundle (a rename is atomic on one file system).
rmSync(`${ROOT}${OUT}`, { recursive: true, force: true });
for (const file of [...entry.outputFiles, ...redis.outputFiles, redisManifest]) {
  mkdirSync(dirname(file.path), { recursive: true });
  const temporary = `${file.path}.${process.pid}.tmp`;
  writeFileSync(temporary, file.contents);
  renameSync(temporary, file.path);
}

// -X: no owner or extra timestamps of this machine in the package.
const ZIP = `${ROOT}build/lambda.zip`;
mkdirSync(dirname(ZIP), { recursive: true });
const temporaryZip = `${ZIP}.${process.pid}.tmp.zip`;
execFileSync('zip', ['-qrX', temporaryZip, '.'], { cwd: `${ROOT}${OUT}`, stdio: 'inherit' });
renameSync(temporaryZip, ZIP);
