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

/** What these tests use of Miniflare (3 and 4 alike), so that type-checking does not need the optional install. */
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
  /** Rate limiting bindings, as wrangler.toml's `[[ratelimits]]` declare them. */
  ratelimits?: Record<string, { namespace_id: string; simple: { limit: number; period: number } }>;
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

/**
 * Which Miniflare the Workers tests run: 4 (a 2026 workerd, the one Wrangler 4 runs) where Node is 22
 * or newer, as it needs; else 3 (a workerd of wrangler.toml's compatibility date). `.ci/run` runs the
 * suite on Node 20, 22 and 26, so both run there.
 */
export const MINIFLARE_MAJOR: 3 | 4 = Number(process.versions.node.split('.')[0]) >= 22 ? 4 : 3;

/** Where test/runtimes/package.json's install has `name` (wrangler.js resolves through Wrangler). */
function resolveInstalled(name: string, from: string | URL = HERE): string {
  try {
    return createRequire(from).resolve(name);
  } catch {
    throw missing(name);
  }
}

/** Wrangler's command-line entry: it builds wrangler.toml's `main` (`wrangler deploy --dry-run`). */
export function wranglerBinary(): string {
  return fileURLToPath(new URL('node_modules/wrangler/bin/wrangler.js', HERE));
}

/**
 * Miniflare's class, loaded from test/runtimes/node_modules: Miniflare 3 itself, or Miniflare 4 as
 * Wrangler depends on it (one workerd for both, and the tests run what `wrangler dev` runs).
 */
export async function loadMiniflare(major: 3 | 4 = MINIFLARE_MAJOR): Promise<MiniflareClass> {
  const entry =
    major === 3 ? resolveInstalled('miniflare') : resolveInstalled('miniflare', resolveInstalled('wrangler'));
  const module = (await import(pathToFileURL(entry).href)) as { Miniflare: MiniflareClass };
  return module.Miniflare;
}
