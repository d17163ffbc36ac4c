#!/usr/bin/env node
import module from 'node:module';

// Node 22 keeps the compiled bundle in a cache on disk (os.tmpdir()), so that later starts skip
// most of the compiling (docs/benchmarks.md, "Start-up"); older Nodes have no such cache.
module.enableCompileCache?.();
// The bundle of dist/cli/main.js (scripts/build-cli.mjs): the same command, started in half the time.
const { runCli } = await import('../dist/bundle/main.mjs');

// The only exit: runCli maps every outcome to a code, and a server stopped by a signal may still
// hold handles (a Redis connection, a second signal's unfinished requests) that must not keep it up.
process.exit(await runCli(process.argv.slice(2)));
