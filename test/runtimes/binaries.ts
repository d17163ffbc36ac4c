/**
 * The runtimes the cross-runtime tests run on (Bun, Deno, workerd through Miniflare) weigh about
 * 300 MB and only the tests in this folder use them, so they are not in the project's install: they
 * come from this folder's own package.json and lockfile, which `.ci/run` installs. A missing install
 * fails the test with the command that installs it, rather than skipping it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = new URL('./', import.meta.url);
export const INSTALL_RUNTIMES = 'npm ci --prefix test/runtimes';

function missing(what: string): Error {
  return new Error(`${what} is not installed: run \`${INSTALL_RUNTIMES}\` (README.md, Quick start)`);
}

/** The path of the `bun` or `deno` binary of test/runtimes/package.json's install. */
export function runtimeBinary(name: 'bun' | 'deno'): string {
  const path = fileURLToPath(new URL(`node_modules/.bin/${name}`, HERE));
  if (!existsSync(path)) throw missing(name);
  return path;
}

/** What these tests use of Miniflare 3, so that type-checking does not need the optional install. */
export interface MiniflareOptions {
  modules: true;
  script?: string;
  scriptPath?: string;
  compatibilityDate: string;
  bindings?: Record<string, string>;
  /** Durable Object bindings: binding name to the class the script exports. */
  durableObjects?: Record<string, { className: string; useSQLite?: boolean }>;
  /** Where Durable Objects keep their storage across instances (a directory); in memory without it. */
  durableObjectsPersist?: string;
  host: string;
  port: number;
  handleRuntimeStdio(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream): void;
}
export interface MiniflareInstance {
  readonly ready: Promise<URL>;
  dispose(): Promise<void>;
  /** A binding's namespace, callable from Node (its stubs' `fetch` reaches the objects in workerd). */
  getDurableObjectNamespace(bindingName: string): Promise<unknown>;
}
type MiniflareClass = new (options: MiniflareOptions) => MiniflareInstance;

/** Miniflare's class, loaded from test/runtimes/node_modules. */
export async function loadMiniflare(): Promise<MiniflareClass> {
  let entry: string;
  try {
    entry = createRequire(HERE).resolve('miniflare');
  } catch {
    throw missing('miniflare');
  }
  const module = (await import(pathToFileURL(entry).href)) as { Miniflare: MiniflareClass };
  return module.Miniflare;
}
