/**
 * The Worker bundle in workerd through Miniflare, with its Durable Objects bound as wrangler.toml
 * binds them (the same binding names and classes, SQLite storage where its migrations say so), for the
 * Workers tests (workers.test.ts, workers-logins.test.ts, workers-login-store.test.ts...).
 *
 * The bundle is wrangler.toml's `main`, built by its `[build]` command. On Miniflare 4 (Node 22) it is
 * what `wrangler deploy --dry-run` puts in its output directory, so the tests run the file a deploy
 * uploads; on Miniflare 3 (Node 20, where Wrangler 4 does not start) the same command run directly.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readWranglerConfig } from '../helpers/platform-files.js';
import {
  loadMiniflare,
  MINIFLARE_MAJOR,
  type MiniflareInstance,
  type MiniflareOptions,
  wranglerBinary,
} from './binaries.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const wrangler = readWranglerConfig(ROOT);
/** The bundle the Workers started next run (set by `buildWorker`). */
let worker = join(ROOT, wrangler.main);

/** Wrangler with no network and no questions: no telemetry, no account. */
export const WRANGLER_ENV = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', NO_COLOR: '1' };

/**
 * A new directory for a dry run's output, under dist/: Miniflare reads a script's modules relative to
 * the working directory and refuses a path outside it.
 */
export function dryRunDirectory(): string {
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  return mkdtempSync(join(ROOT, 'dist', 'wrangler-'));
}

/** `wrangler deploy --dry-run` of wrangler.toml, into `outdir`: its output, and the module it would upload. */
export async function wranglerDryRun(outdir: string): Promise<{ output: string; module: string }> {
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    [wranglerBinary(), 'deploy', '--dry-run', '--outdir', outdir],
    { cwd: ROOT, env: WRANGLER_ENV },
  );
  return { output: stdout + stderr, module: join(outdir, 'index.js') };
}

/** Builds the Worker as a deployment does (see the top of this file); the Workers started next run it. */
export async function buildWorker(): Promise<string> {
  if (MINIFLARE_MAJOR === 4) {
    worker = (await wranglerDryRun(dryRunDirectory())).module;
  } else {
    await promisify(execFile)(process.execPath, wrangler.build.command.split(' ').slice(1), { cwd: ROOT });
    worker = join(ROOT, wrangler.main);
  }
  return worker;
}

/** wrangler.toml's `[[durable_objects.bindings]]`, with the storage its `[[migrations]]` give each class. */
export function durableObjectsOfWrangler(): NonNullable<MiniflareOptions['durableObjects']> {
  const sqlite = new Set(wrangler.migrations.flatMap((migration) => migration.new_sqlite_classes));
  return Object.fromEntries(
    wrangler.durable_objects.bindings.map((binding) => [
      binding.name,
      { className: binding.class_name, useSQLite: sqlite.has(binding.class_name) },
    ]),
  );
}

export interface RunningWorker {
  url: URL;
  miniflare: MiniflareInstance;
  /** What workerd printed so far (the Worker's log lines). */
  output(): string;
}

/** Every Worker started, so that `disposeAll` stops each. */
const started: MiniflareInstance[] = [];

export async function startWorker(
  bindings: Record<string, string>,
  options: { logins?: boolean; persist?: string; ratelimits?: MiniflareOptions['ratelimits'] } = {},
): Promise<RunningWorker> {
  const Miniflare = await loadMiniflare();
  let output = '';
  const miniflare = new Miniflare({
    modules: true,
    scriptPath: worker,
    compatibilityDate: wrangler.compatibility_date,
    bindings,
    ...(options.logins === false ? {} : { durableObjects: durableObjectsOfWrangler() }),
    ...(options.persist === undefined ? {} : { durableObjectsPersist: options.persist }),
    ...(options.ratelimits === undefined ? {} : { ratelimits: options.ratelimits }),
    host: '127.0.0.1',
    port: 0,
    handleRuntimeStdio(stdout, stderr) {
      for (const stream of [stdout, stderr]) {
        stream.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
      }
    },
  });
  started.push(miniflare);
  return { url: await miniflare.ready, miniflare, output: () => output };
}

/** Stops one Worker now (its persisted storage stays). */
export async function stopWorker(worker: RunningWorker): Promise<void> {
  started.splice(started.indexOf(worker.miniflare), 1);
  await worker.miniflare.dispose();
}

export async function disposeAll(): Promise<void> {
  await Promise.all(started.splice(0).map((miniflare) => miniflare.dispose()));
}
