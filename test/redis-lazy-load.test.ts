/**
 * ioredis costs about 20 MB and Lambda cold-start time (src/runtimes/node/redis/connection.ts): the
 * Node server and the Lambda entry load it only when REDIS_URL is set. Each case runs the built
 * entry (dist/) in a fresh Node process, where nothing else could have loaded it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig, refreshBudgetMs } from '../src/server/config/index.js';
import { conformanceEnv } from './conformance/suite.js';
import { freePort } from './helpers/redis.js';

const run = promisify(execFile);
const DIST = new URL('../dist/', import.meta.url).href;
const EVENT = new URL('runtimes/events/function-url.wrong-method.json', import.meta.url).href;

/** The child's last line (the entry logs to stdout before it): whether ioredis is in the CommonJS cache. */
const LOADED = `
const loaded = Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/node_modules/ioredis/'));
process.stdout.write('\\n' + JSON.stringify({ loaded }));
process.exit(0);`;

const ENTRIES = {
  lambda: `
const { handler } = await import('${DIST}runtimes/lambda.js');
const event = JSON.parse(readFileSync(new URL('${EVENT}'), 'utf8'));
const answer = await handler(event);
if (answer.statusCode !== 405) throw new Error('unexpected status ' + answer.statusCode);`,
  node: `
const { createNodeService } = await import('${DIST}runtimes/node/index.js');
const { loadConfig } = await import('${DIST}server/config/index.js');
const { silentLogger } = await import('${DIST}server/logger.js');
createNodeService(loadConfig(process.env), { logger: silentLogger });`,
};

async function ioredisLoaded(entry: keyof typeof ENTRIES, env: Record<string, string>): Promise<boolean> {
  const code = `import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
${ENTRIES[entry]}
${LOADED}`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], {
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 15_000,
  });
  return (JSON.parse(stdout.split('\n').at(-1) ?? '') as { loaded: boolean }).loaded;
}

describe('ioredis', () => {
  const env = conformanceEnv('http://127.0.0.1:9');

  it.each(['lambda', 'node'] as const)('is not loaded by the %s entry without REDIS_URL', async (entry) => {
    expect(await ioredisLoaded(entry, env)).toBe(false);
  });

  it.each(['lambda', 'node'] as const)('is loaded by the %s entry with REDIS_URL', async (entry) => {
    // Nothing listens there: the entry connects in vain, which is all this case needs.
    const url = `redis://127.0.0.1:${await freePort()}`;
    expect(await ioredisLoaded(entry, { ...env, REDIS_URL: url })).toBe(true);
  });
});

describe('the refresh budget replicas wait for one another', () => {
  it('covers a queued slot, two attempts of the slowest app and the pause between them', () => {
    const config = loadConfig({
      ...conformanceEnv('http://127.0.0.1:9'),
      UPSTREAM_TIMEOUT_MS: '4000',
      UPSTREAM_QUEUE_TIMEOUT_MS: '1500',
    });
    expect(refreshBudgetMs(config)).toBe(1_500 + 2 * 4_000 + 1_000);
  });
});
