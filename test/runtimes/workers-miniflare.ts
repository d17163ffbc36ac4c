/**
 * The Worker bundle in workerd through Miniflare, with its Durable Objects bound as wrangler.toml
 * binds them (the same binding names and classes, SQLite storage where its migrations say so), for the
 * tests of the login store on Workers (workers-logins.test.ts, workers-login-store.test.ts).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readWranglerConfig } from '../helpers/platform-files.js';
import { loadMiniflare, type MiniflareInstance, type MiniflareOptions } from './binaries.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKER = fileURLToPath(new URL('../../dist/worker/index.js', import.meta.url));
export const wrangler = readWranglerConfig(ROOT);

/** Bundles src/runtimes/workers.ts into dist/worker/index.js, as test/runtimes/workers.test.ts does. */
export async function buildWorker(): Promise<void> {
  await promisify(execFile)(process.execPath, ['scripts/build-worker.mjs'], { cwd: ROOT });
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
  options: { logins?: boolean; persist?: string } = {},
): Promise<RunningWorker> {
  const Miniflare = await loadMiniflare();
  let output = '';
  const miniflare = new Miniflare({
    modules: true,
    scriptPath: WORKER,
    compatibilityDate: wrangler.compatibility_date,
    bindings,
    ...(options.logins === false ? {} : { durableObjects: durableObjectsOfWrangler() }),
    ...(options.persist === undefined ? {} : { durableObjectsPersist: options.persist }),
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
