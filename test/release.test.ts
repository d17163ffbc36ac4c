/**
 * The release steps of docs/versioning.md: its `npm version` command moves the service and the kit to
 * one version together, in both package.json files and the lockfile (and nothing else in the lockfile),
 * and the release workflow publishes both packages with provenance from a tag that must be that version.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, run } from './helpers/npm-project.js';

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
type Lock = { version: string; packages: Record<string, { version?: string }> };

/** The lockfile without the version fields a release sets. */
function lockWithoutVersions(lock: Lock): unknown {
  const { version: _version, ...rest } = lock;
  const packages = { ...rest.packages };
  for (const path of ['', 'packages/client']) {
    const { version: _v, ...entry } = packages[path] ?? {};
    packages[path] = entry;
  }
  return { ...rest, packages };
}

describe('release', () => {
  it('the npm version command of docs/versioning.md sets one version in both packages and the lockfile', async () => {
    const command = /`(npm version <version> [^`]+)`/.exec(read('docs/versioning.md'))?.[1];
    expect(command).toBeDefined();
    const copy = mkdtempSync(join(tmpdir(), 'token-swap-release-'));
    mkdirSync(join(copy, 'packages/client'), { recursive: true });
    for (const file of ['package.json', 'package-lock.json', 'packages/client/package.json']) {
      copyFileSync(join(ROOT, file), join(copy, file));
    }
    const args = (command ?? '').replace('<version>', '9.8.7').split(' ');
    await run(args[0] ?? 'npm', args.slice(1), { cwd: copy, timeoutMs: 60_000 });

    const json = (path: string) => JSON.parse(readFileSync(join(copy, path), 'utf8'));
    expect(json('package.json').version).toBe('9.8.7');
    expect(json('packages/client/package.json').version).toBe('9.8.7');
    const lock = json('package-lock.json') as Lock;
    expect([lock.version, lock.packages['']?.version, lock.packages['packages/client']?.version]).toEqual([
      '9.8.7',
      '9.8.7',
      '9.8.7',
    ]);
    expect(lockWithoutVersions(lock)).toEqual(lockWithoutVersions(JSON.parse(read('package-lock.json'))));
  });

  it('the service and the kit have one version now', () => {
    expect(JSON.parse(read('packages/client/package.json')).version).toBe(
      JSON.parse(read('package.json')).version,
    );
  });

  it('the workflow publishes both packages with provenance, from a tag that is their version', () => {
    const workflow = read('.github/workflows/release.yml');
    expect(workflow).toMatch(/^\s+id-token: write$/m);
    expect(workflow).toContain('npm publish --provenance --access public\n');
    expect(workflow).toContain('npm publish --provenance --access public --workspace packages/client\n');
    expect(workflow).toContain(`require('./package.json').version`);
    expect(workflow).toContain(`require('./packages/client/package.json').version`);
  });
});
