/**
 * The benchmark's child processes: each server runs in a process of its own, so that its CPU and
 * memory can be told apart from the load generator's, and every one is killed however the run ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { constants } from 'node:os';

export interface Child {
  name: string;
  /** Base URL the child printed, e.g. `http://127.0.0.1:40123`. */
  url: string;
  pid: number;
}

export interface StartOptions {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Working directory; one without a `.env`, so that no stray configuration applies. */
  cwd: string;
  /** Where stdout goes: the service logs a JSON line per request there, which must be written somewhere real. */
  stdout: 'ignore' | number;
  timeoutMs?: number;
  /**
   * A command that runs `node` for us, with its own arguments first (`valgrind --tool=callgrind
   * ...`: bench/instructions.ts); the child's pid is then that command's, which for Valgrind is the
   * measured process itself.
   */
  command?: readonly string[];
}

const running = new Set<ChildProcess>();
const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+)/;

/**
 * Starts `node <args>` and resolves once it prints `listening on http://127.0.0.1:PORT` on stderr.
 * Anything bound elsewhere is refused: the load must stay on loopback.
 */
export function startNode(options: StartOptions): Promise<Child> {
  const [file = process.execPath, ...args] = [...(options.command ?? []), process.execPath, ...options.args];
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', options.stdout, 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));

  return new Promise((resolve, reject) => {
    let stderr = '';
    let settled = false;
    const settle = (outcome: () => void) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        outcome();
      }
    };
    const fail = (reason: string) =>
      settle(() => {
        child.kill('SIGKILL');
        reject(new Error(`${options.name} ${reason}\n${stderr.trim().slice(-2000)}`));
      });
    const timer = setTimeout(() => fail('did not start listening in time'), options.timeoutMs ?? 20_000);
    child.once('error', (error) => fail(`could not start: ${error.message}`));
    child.once('exit', (code, signal) => fail(`exited before listening (${signal ?? `code ${code}`})`));
    child.stderr?.setEncoding('utf8');
    // Read stderr for as long as the child lives, so that a chatty child never blocks on a full pipe.
    child.stderr?.on('data', (chunk: string) => {
      if (settled) {
        return;
      }
      stderr += chunk;
      const url = LISTENING.exec(stderr)?.[1];
      const { pid } = child;
      if (url !== undefined && pid !== undefined) {
        settle(() => resolve({ name: options.name, url, pid }));
      }
    });
  });
}

/** A size line of `/proc/PID/status` in bytes; Linux only, and only while the process lives. */
function statusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status)?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

/** Peak resident set size in bytes (`VmHWM`). */
export function peakRssBytes(pid: number): number | undefined {
  return statusBytes(pid, 'VmHWM');
}

/** Resident set size now, in bytes (`VmRSS`). */
export function rssBytes(pid: number): number | undefined {
  return statusBytes(pid, 'VmRSS');
}

/** What a process's resident memory is, by kind of mapping, in bytes. */
export interface RssByMapping {
  /** Anonymous memory: the V8 heap's pages, thread stacks, V8's code space and other arenas. */
  anonymous: number;
  /** Pages of the `node` executable itself: its machine code, and its read-only data (the built-in modules' sources and code cache among them). */
  nodeCode: number;
  nodeReadOnlyData: number;
  /** The C heap (`[heap]`, malloc's main arena). */
  malloc: number;
  /** Everything else: shared libraries, the executable's writable data. */
  other: number;
}

/**
 * Resident memory by mapping, from `/proc/PID/smaps` (Linux only, while the process lives). Under
 * load the V8 heap is most of `anonymous`; a bare `node` already holds tens of MB of its own
 * executable's pages, which no change to the program can give back (docs/benchmarks.md, "What the
 * 80 MB are").
 */
export function rssByMapping(pid: number): RssByMapping | undefined {
  try {
    const executable = readlinkSync(`/proc/${pid}/exe`);
    const sizes: RssByMapping = { anonymous: 0, nodeCode: 0, nodeReadOnlyData: 0, malloc: 0, other: 0 };
    let kind: keyof RssByMapping = 'other';
    for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
      // A mapping's header: `start-end perms offset dev inode [path]`; its fields follow, one a line.
      const header = /^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+ *(.*)$/.exec(line);
      if (header) {
        const [, perms = '', path = ''] = header;
        if (path === '') kind = 'anonymous';
        else if (path === '[heap]') kind = 'malloc';
        else if (path === executable && perms.startsWith('r-x')) kind = 'nodeCode';
        else if (path === executable && perms.startsWith('r--')) kind = 'nodeReadOnlyData';
        else kind = 'other';
        continue;
      }
      const rss = /^Rss:\s+(\d+) kB$/.exec(line)?.[1];
      if (rss !== undefined) sizes[kind] += Number(rss) * 1024;
    }
    return sizes;
  } catch {
    return undefined;
  }
}

/** Clock ticks per second of /proc/<pid>/stat; 100 on every Linux build that matters. */
const CLOCK_TICKS = 100;

/**
 * CPU time (user + system) the process used so far, in seconds. Unlike throughput, it does not depend
 * on what else the machine is running, which makes it the steadier measure of a server's own cost.
 */
export function cpuSeconds(pid: number): number | undefined {
  const times = cpuTimes(pid);
  return times && times.user + times.system;
}

/**
 * CPU time the process used so far in user space and in the kernel, apart, in seconds: a program's
 * own work is user time; the kernel's share (sockets, scheduling) is about the same per request for
 * any server doing the same HTTP work.
 */
export function cpuTimes(pid: number): { user: number; system: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which sits in parentheses and may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

/** Starts counting CPU time; the returned function gives the seconds each process spent since. */
export function cpuMeter<K extends string>(pids: Record<K, number>): () => Record<K, number | undefined> {
  const entries = Object.entries(pids) as [K, number][];
  const start = entries.map(([name, pid]) => [name, pid, cpuSeconds(pid)] as const);
  return () =>
    Object.fromEntries(
      start.map(([name, pid, before]) => {
        const after = cpuSeconds(pid);
        return [name, before === undefined || after === undefined ? undefined : after - before];
      }),
    ) as Record<K, number | undefined>;
}

/** SIGTERM to every child, SIGKILL to any still there after `graceMs`. */
export async function stopAll(graceMs = 5_000): Promise<void> {
  const children = [...running];
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            done();
            return;
          }
          const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('exit', () => {
            clearTimeout(force);
            done();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

/**
 * Whatever ends this process (an error, Ctrl-C, a kill), its servers go with it. `exit` handlers
 * must be synchronous, hence SIGKILL there; signals get the graceful path first.
 */
export function killChildrenOnExit(): void {
  process.once('exit', () => {
    for (const child of running) {
      child.kill('SIGKILL');
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the benchmark's servers\n`);
      void stopAll(2_000).finally(() => process.exit(128 + constants.signals[signal]));
    });
  }
}
