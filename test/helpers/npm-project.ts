/**
 * npm as a user runs it, for the packaging tests: in an empty project of its own, with none of the
 * npm_* variables that `npm test` sets for this process (they would change what a nested npm or npx
 * installs and resolves), and every call bounded in time.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function userEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')),
  );
  return { ...env, NO_UPDATE_NOTIFIER: '1', ...extra };
}

/** Runs a command to its end; rejects with its output when it fails or outlasts `timeoutMs`. */
export async function run(
  command: string,
  args: string[],
  options: { cwd: string; timeoutMs?: number; env?: Record<string, string> },
): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(command, args, {
      cwd: options.cwd,
      env: userEnvironment(options.env),
      timeout: options.timeoutMs ?? 120_000,
      killSignal: 'SIGKILL',
      maxBuffer: 64 * 1024 * 1024,
      encoding: 'utf8',
    });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${options.cwd}:\n${stdout}\n${stderr}`, {
      cause: error,
    });
  }
}

/** An empty ESM project, as `npm init` leaves it, in a fresh temporary directory. */
export function emptyProject(name = 'app'): string {
  const dir = mkdtempSync(join(tmpdir(), `token-swap-${name}-`));
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
  );
  return dir;
}

export const npmQuiet = ['--no-audit', '--no-fund', '--loglevel=error'];

/** `npm pack` into a fresh directory; returns the tarball's path and the files in it. */
export async function pack(
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<{ tarball: string; files: string[] }> {
  const destination = mkdtempSync(join(tmpdir(), 'token-swap-pack-'));
  const out = await run('npm', ['pack', '--json', '--pack-destination', destination, ...npmQuiet, ...args], {
    cwd: ROOT,
    ...options,
  });
  // Lifecycle scripts (prepack's build) print before the JSON.
  const [packed] = JSON.parse(out.slice(out.indexOf('\n[') + 1 || 0)) as {
    filename: string;
    files: { path: string }[];
  }[];
  if (!packed) throw new Error(`npm pack printed no package: ${out}`);
  return { tarball: join(destination, packed.filename), files: packed.files.map((file) => file.path) };
}

/** Every package name in `npm ls --all --json`'s tree, the project itself excluded. */
export function packageNames(tree: { dependencies?: Record<string, unknown> }): string[] {
  const names: string[] = [];
  const walk = (node: { dependencies?: Record<string, unknown> }) => {
    for (const [name, child] of Object.entries(node.dependencies ?? {})) {
      names.push(name);
      walk(child as { dependencies?: Record<string, unknown> });
    }
  };
  walk(tree);
  return [...new Set(names)].sort();
}
