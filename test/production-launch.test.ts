/**
 * The service is started with the same Node flags wherever it runs in production: `npm start`, the
 * Docker image's CMD, the systemd unit in docs/deploy/node.md, and bin/token-swap.js's own re-execution
 * of a `serve` started without them. The benchmark starts it with the
 * flags of `npm start`, so its numbers hold for all three only while they agree.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { productionNodeFlags } from '../bench/servers.js';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

function nodeFlagsOf(command: readonly string[]): string[] {
  const script = command.findIndex((part) => part.endsWith('bin/token-swap.js'));
  expect(script, `no bin/token-swap.js in ${command.join(' ')}`).toBeGreaterThan(0);
  expect(command.slice(script + 1)).toEqual(['serve']);
  return command.slice(1, script);
}

describe('production launch flags', () => {
  const startScript = JSON.parse(read('package.json')).scripts.start as string;
  const fromStart = nodeFlagsOf(startScript.split(' '));

  it('npm start sizes V8 for a small service (the memory the benchmark measures depends on it)', () => {
    expect(fromStart).toEqual([
      '--max-semi-space-size=4',
      '--max-old-space-size=1024',
      '--no-memory-reducer',
    ]);
    expect(productionNodeFlags()).toEqual(fromStart);
  });

  it('the Docker image runs the service with the flags of npm start', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'))?.[1];
    expect(cmd).toBeDefined();
    expect(nodeFlagsOf(JSON.parse(cmd ?? '[]'))).toEqual(fromStart);
  });

  it('serve started without them gives itself the same flags (bin/token-swap.js, for npx users)', () => {
    const list = /const SERVER_V8_FLAGS = (\[[^\]]*\])/.exec(read('bin/token-swap.js'))?.[1];
    expect(list).toBeDefined();
    expect(JSON.parse((list ?? '[]').replaceAll("'", '"'))).toEqual(fromStart);
  });

  it('the systemd unit in docs/deploy/node.md runs it with the same flags', () => {
    const execStart = /^ExecStart=(.+)$/m.exec(read('docs/deploy/node.md'))?.[1];
    expect(execStart).toBeDefined();
    expect(nodeFlagsOf((execStart ?? '').split(' '))).toEqual(fromStart);
  });
});
