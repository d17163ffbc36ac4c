#!/usr/bin/env node
import module from 'node:module';

// The V8 flags of `npm start`, the Docker image and the systemd unit (test/production-launch.test.ts
// keeps the four in step): a small young generation keeps the server near 80 MB under load instead of
// 120-130 MB, and without the memory reducer V8 keeps its optimized code through an idle pause instead
// of compiling it again in the next burst (docs/benchmarks.md, "The memory reducer"). `npx token-swap
// serve` gives no way to pass them but NODE_OPTIONS (which refuses --no-memory-reducer), and V8 reads
// them only when the heap is set up, so `serve` started without them
// replaces itself with the same command plus the flags (same pid, same stdio: a process manager sees
// nothing), where Node has process.execve (22.15 and later). Flags the caller gave are never overridden.
const SERVER_V8_FLAGS = ['--max-semi-space-size=4', '--max-old-space-size=1024', '--no-memory-reducer'];

function givesHeapFlags() {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return given.some((flag) => /^--max-(semi|old)-space-size\b/.test(flag));
}

if (
  process.argv[2] === 'serve' &&
  typeof process.execve === 'function' &&
  // A child forked with an IPC channel keeps it only in this process: never replace that one.
  process.env.NODE_CHANNEL_FD === undefined &&
  !givesHeapFlags()
) {
  process.execve(
    process.execPath,
    [process.execPath, ...SERVER_V8_FLAGS, ...process.execArgv, ...process.argv.slice(1)],
    process.env,
  );
}

// Node 22 keeps the compiled bundle in a cache on disk (os.tmpdir()), so that later starts skip
// most of the compiling (docs/benchmarks.md, "Start-up"); older Nodes have no such cache.
module.enableCompileCache?.();
// The bundle of dist/cli/main.js (scripts/build-cli.mjs): the same command, started in half the time.
const { runCli } = await import('../dist/bundle/main.mjs');

// The only exit: runCli maps every outcome to a code, and a server stopped by a signal may still
// hold handles (a Redis connection, a second signal's unfinished requests) that must not keep it up.
process.exit(await runCli(process.argv.slice(2)));
