#!/usr/bin/env node
/**
 * Bundles the browser demo's script (src/demo/browser/main.ts, with the client kit it uses) into one
 * file, dist/demo/browser.js, that the demo page loads as its `app.js`. A classic script (IIFE), since
 * the page loads it with `<script src defer>`. Built for the browser platform: an import of a Node
 * built-in fails this build instead of failing in the page.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

await build({
  absWorkingDir: fileURLToPath(new URL('..', import.meta.url)),
  entryPoints: ['src/demo/browser/main.ts'],
  outfile: 'dist/demo/browser.js',
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
