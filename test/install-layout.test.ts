/**
 * What each install brings (docs/deploy/docker.md, "What each install brings"): the development
 * install has no runtime binaries (they are test/runtimes' own install, for the tests that use them),
 * and the Docker build stage installs scripts/build-tools, which must pin exactly the tsc, esbuild and
 * Node types of the root lockfile, so that the image is built with the tools the tests ran.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/npm-project.js';

interface Lock {
  packages: Record<string, { version?: string; integrity?: string; dependencies?: Record<string, string> }>;
}
const read = <T>(path: string): T => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as T;
const RUNTIME_BINARIES = ['bun', 'deno', 'miniflare', 'workerd'];

describe('install layout', () => {
  it('keeps the runtime binaries out of the project install and in test/runtimes', () => {
    const root = read<Lock>('package-lock.json');
    const installed = Object.keys(root.packages).map((path) => path.replace(/^.*node_modules\//, ''));
    for (const binary of RUNTIME_BINARIES) expect(installed).not.toContain(binary);
    expect(installed.filter((name) => name.startsWith('@cloudflare/') || name.startsWith('@oven/'))).toEqual(
      [],
    );
    const runtimes = read<Lock>('test/runtimes/package-lock.json');
    expect(Object.keys(runtimes.packages['']?.dependencies ?? {}).sort()).toEqual([
      'bun',
      'deno',
      'miniflare',
      'wrangler',
    ]);
  });

  it('pins the build stage’s tools to the root lockfile, package by package', () => {
    const root = read<Lock>('package-lock.json').packages;
    const tools = read<Lock>('scripts/build-tools/package-lock.json').packages;
    expect(Object.keys(tools['']?.dependencies ?? {}).sort()).toEqual([
      '@types/node',
      'esbuild',
      'typescript',
    ]);
    const paths = Object.keys(tools).filter((path) => path !== '');
    expect(paths.length).toBeGreaterThan(3);
    for (const path of paths) {
      expect({ path, ...root[path] }).toMatchObject({
        path,
        version: tools[path]?.version,
        integrity: tools[path]?.integrity,
      });
    }
  });

  it('builds with nothing but those tools: the build script runs tsc and the esbuild demo and CLI bundles', () => {
    const build = read<{ scripts: Record<string, string> }>('package.json').scripts.build;
    expect(build).toBe(
      'tsc -p tsconfig.build.json && node scripts/build-demo.mjs && node scripts/build-cli.mjs',
    );
    for (const script of ['scripts/build-demo.mjs', 'scripts/build-cli.mjs']) {
      const source = readFileSync(join(ROOT, script), 'utf8');
      const imports = [...source.matchAll(/from '([^']+)'/g)]
        .map((m) => m[1])
        .filter((m) => !m?.startsWith('node:'));
      expect(imports, script).toEqual(['esbuild']);
    }
  });
});
