/**
 * `token-swap serve` started without V8 heap flags (as `npx token-swap serve` is) gives itself the
 * flags of `npm start` by replacing its own process (bin/token-swap.js), where Node has
 * process.execve; flags the caller gave win, and other commands are never re-executed.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type CliRun, runCli } from './helpers/cli.js';

const SERVER_FLAGS = ['--max-semi-space-size=4', '--max-old-space-size=1024', '--no-memory-reducer'];
const canReplaceItself = typeof (process as { execve?: unknown }).execve === 'function';

const running: CliRun[] = [];
afterEach(async () => {
  for (const cli of running.splice(0)) {
    cli.child.kill('SIGTERM');
    await cli.exited;
  }
});

/** The command line the server process runs now (after any re-execution: the pid stays). */
async function serverCommandLine(env: Record<string, string> = {}): Promise<{ argv: string[]; cli: CliRun }> {
  const cli = runCli(['serve', '--sandbox', '--port', '0'], { env });
  running.push(cli);
  await cli.waitFor(/Swap service\s+http:\/\/\S+/, 20_000);
  const pid = cli.child.pid ?? 0;
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  return { argv, cli };
}

describe('serve sizes V8 for a small service by itself', () => {
  it.runIf(canReplaceItself)(
    'without flags, the same process runs again with the flags of npm start',
    async () => {
      const { argv, cli } = await serverCommandLine();
      expect(argv.slice(1, 1 + SERVER_FLAGS.length)).toEqual(SERVER_FLAGS);
      expect(argv.slice(-4)).toEqual(['serve', '--sandbox', '--port', '0']);
      // Still the child the caller started: a signal to its pid stops the server cleanly.
      cli.child.kill('SIGTERM');
      expect((await cli.exited).code).toBe(0);
    },
  );

  it.skipIf(canReplaceItself)(
    'on a Node without process.execve it runs as started (NODE_OPTIONS sizes it)',
    async () => {
      const { argv } = await serverCommandLine();
      expect(argv.filter((part) => part.startsWith('--max-'))).toEqual([]);
    },
  );

  it('flags the caller gave in NODE_OPTIONS are kept, and nothing is added', async () => {
    const { argv } = await serverCommandLine({ NODE_OPTIONS: '--max-old-space-size=2048' });
    expect(argv.filter((part) => part.startsWith('--max-'))).toEqual([]);
  });
});
