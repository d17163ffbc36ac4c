/**
 * The smoke runs of a page (docs/benchmarks.md): the one shell block that starts with a prefix, run as
 * written (bash, strict mode, from the repository's root, in a person's environment). Each runner names
 * the page, as test/docs-commands.test.ts checks.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { shellBlocks } from './doc-blocks.js';
import { personEnvironment } from './shell-session.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The block's body; fails unless exactly one block starts with `prefix` and it is not marked not run. */
export function smokeBlock(page: string, prefix: string): string {
  const blocks = shellBlocks(ROOT, page).filter((b) => b.body.startsWith(prefix));
  expect(blocks, `one smoke-run block starting "${prefix}"`).toHaveLength(1);
  expect(blocks[0]?.notRun).toBeUndefined();
  return blocks[0]?.body ?? '';
}

export function runSmokeBlock(page: string, prefix: string, timeoutMs: number): SpawnSyncReturns<string> {
  return spawnSync('bash', ['-euo', 'pipefail', '-c', smokeBlock(page, prefix)], {
    cwd: ROOT,
    env: personEnvironment(),
    encoding: 'utf8',
    timeout: timeoutMs,
  });
}
