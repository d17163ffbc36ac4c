#!/usr/bin/env node
/**
 * Bundles the `token-swap` command (src/cli/main.ts) with its dependencies into dist/bundle/, which
 * bin/token-swap.js runs: one ES module per command (code splitting keeps the subcommands' lazy
 * imports lazy) instead of several hundred files to resolve, read and compile. That halves the CPU
 * time from process start to the first `/healthz` answer (docs/benchmarks.md, "Start-up").
 * dist/cli/ (tsc's output) stays what the package's modules and the in-process tests import.
 *
 * What the code loads only when configured (ioredis with REDIS_URL, the OpenTelemetry SDK with
 * OTEL_*) it loads with `createRequire(import.meta.url)`, which esbuild does not follow: those stay
 * in node_modules, resolved from where the module would be in dist/ (below).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = `${ROOT}dist/bundle`;

/**
 * Each module keeps the `import.meta.url` it has in dist/ (tsc's layout): the paths it reads
 * relative to itself (package.json for the version, the demo's browser bundle, the lazy requires)
 * stay right whichever chunk it lands in.
 */
const distUrls = {
  name: 'dist-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /[/\\]src[/\\].*\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const dist = `${ROOT}dist/${relative(`${ROOT}src`, args.path).replace(/\.ts$/, '.js')}`;
      const fromBundle = relative(OUT, dist).split('\\').join('/');
      const url = `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`;
      return { contents: source.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
};

const { outputFiles } = await build({
  absWorkingDir: ROOT,
  entryPoints: ['src/cli/main.ts'],
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  // Names kept, for the "unexpected error" report; whitespace and syntax minified, for the parse.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  // CommonJS packages in an ES module bundle still call `require` for Node built-ins.
  banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  plugins: [distUrls],
  logLevel: 'warning',
  write: false,
});

// Into a fresh folder that then replaces the old one: a command started during a rebuild never
// mixes chunks of two builds.
const staging = `${OUT}.${process.pid}.tmp`;
for (const file of outputFiles) {
  const target = `${staging}${file.path.slice(OUT.length)}`;
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, file.contents);
}
rmSync(OUT, { recursive: true, force: true });
renameSync(staging, OUT);
