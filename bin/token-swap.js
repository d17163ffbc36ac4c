#!/usr/bin/env node
import { runCli } from '../dist/cli/main.js';

// The only exit: runCli maps every outcome to a code, and a server stopped by a signal may still
// hold handles (a Redis connection, a second signal's unfinished requests) that must not keep it up.
process.exit(await runCli(process.argv.slice(2)));
