/**
 * Instructions per `/refresh`, counted by Valgrind's callgrind, for the targets of
 * cpu-per-refresh.ts: the Agent baseline, the Hono baseline and the service with every feature on
 * (and `before`: another build, or this one with other environment). Each target runs under
 * callgrind with its instrumentation off while it starts and warms up, and on over fixed request
 * counts, in ABBA rounds. An instruction count does not depend on what else the machine runs or on
 * how fast its cores are that minute (which moved the Agent baseline's CPU time by up to 1.7 times
 * within an hour here); what is left is the JIT's and the collector's timing, some 5% from one round
 * of a target to the next (docs/benchmarks.md, "Instructions per refresh"). It counts instructions in
 * user space, every thread of the process: not the kernel's work, and not the time an instruction
 * waits for memory. Under callgrind a process runs some 40 times slower, which is why the counts are
 * over a few thousand requests, not over seconds.
 *
 *   npx tsx bench/instructions.ts
 *
 * Env: IR_REQUESTS (per round and target, default 2,000), IR_ROUNDS (default 4), IR_WARMUP
 * (requests per target before any is counted, default 10,000), IR_CONNECTIONS (default 8), IR_TOP
 * (the functions listed where the service spends the most over the Hono baseline, default 15),
 * IR_JS_NAMES=0 (no `--perf-basic-prof`: JavaScript's compiled code keeps its address),
 * IR_SERVICE_ENV (JSON: more environment for the service), IR_COMPARE (another checkout's built `bin/token-swap.js`: a fourth target, `before`),
 * IR_BEFORE_ENV (JSON: environment for `before` only, over IR_SERVICE_ENV; alone, `before` is this
 * build with that environment, e.g. `{"LOG_LEVEL":"silent"}`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  mintCodes,
  mintRefreshTokens,
  REDIRECT_URI,
  refreshBody,
  sealedRefreshTokens,
  swapBody,
} from './grants.js';
import { load, slicedPerConnection } from './load.js';
import { log } from './log.js';
import { type Child, killChildrenOnExit, stopAll } from './processes.js';
import { count } from './samples.js';
import { startBaseline, startBundledBaseline, startService, startUpstream } from './servers.js';

type Target = 'baseline' | 'hono' | 'before' | 'service';
const LABELS: Record<Target, string> = {
  baseline: 'Agent baseline',
  hono: 'Hono baseline',
  before: 'before',
  service: 'service',
};

const SHORT_LABELS: Record<Target, string> = {
  baseline: 'Agent',
  hono: 'Hono',
  before: 'before',
  service: 'service',
};

const requestsPerRound = count('IR_REQUESTS', 2_000, 100_000);
const rounds = count('IR_ROUNDS', 4, 20);
const warmup = count('IR_WARMUP', 10_000, 200_000);
const connections = count('IR_CONNECTIONS', 8, 64);
const top = count('IR_TOP', 15, 200);
const jsNames = process.env.IR_JS_NAMES !== '0';
const compareBin = process.env.IR_COMPARE || undefined;
const beforeEnv = process.env.IR_BEFORE_ENV?.trim() || undefined;
const hasBefore = compareBin !== undefined || beforeEnv !== undefined;
const TARGETS: readonly Target[] = [
  'baseline',
  'hono',
  ...(hasBefore ? (['before'] as const) : []),
  'service',
];
const TOKENS = 2_000;
// Under callgrind a process runs some 40 times slower: its start and its requests get room for that.
const START_TIMEOUT_MS = 120_000;

const JIT_CODE = 'JavaScript compiled at run time (JIT code)';
const COMPILERS = "V8's parser and compilers";

/**
 * What the functions callgrind names are, by their names and the object they are in: every
 * instruction falls in one kind. The first that matches wins. Names are V8's, Node's and OpenSSL's
 * C and C++ symbols in the `node` executable; code V8 generated at run time has no name (`???`).
 */
const KINDS: readonly { kind: string; matches: (name: string, object: string) => boolean }[] = [
  { kind: JIT_CODE, matches: (_name, object) => object === '???' },
  {
    kind: 'garbage collector',
    matches: (name) =>
      /^v8::internal::.*(Scaveng|Sweep|Mark|Evacuat|Heap|Remembered|SlotSet|MemoryChunk|Space::|GCTracer|Collector|IteratePointers|Visitor|IterateObjectCache|SizeFromMap|Page|Promot|Marking|WeakObjects|GlobalHandles)|^heap::base::|^cppgc::/.test(
        name,
      ),
  },
  { kind: "V8's builtins and interpreter", matches: (name) => name.startsWith('Builtins_') },
  {
    kind: COMPILERS,
    matches: (name) =>
      /^v8::internal::(compiler|maglev|baseline|interpreter|Parser|PreParser|Scanner|Compiler|.*Compil)/.test(
        name,
      ),
  },
  {
    kind: 'OpenSSL and node::crypto',
    matches: (name) =>
      /^(EVP_|evp_|OPENSSL_|ossl_|aesni_|_?aesni|gcm_|CRYPTO_|SHA\d|sha\d|RAND_|rand_|BN_|bn_|ERR_|HMAC|hmac|EC_|ec_|aes_|AES_|OBJ_|ASN1_|node::crypto::)/.test(
        name,
      ),
  },
  {
    kind: "Node's C++ and libuv (HTTP parser, streams)",
    matches: (name) => /^(node::|uv_|uv__|llhttp|napi_)/.test(name),
  },
  {
    kind: 'libc and the C++ runtime (malloc, memcpy)',
    matches: (_name, object) => /\/lib[^/]*\.so/.test(object),
  },
  {
    kind: "V8's runtime (objects, strings, JSON, inline caches' slow paths)",
    matches: (name) => /^(v8::|Runtime_|icu_)/.test(name),
  },
  { kind: 'other', matches: () => true },
];

interface Costs {
  /** Instructions per kind of code. */
  byKind: Map<string, number>;
  /** Instructions per function (`name [object]`). */
  byFunction: Map<string, number>;
  /** Instructions of JIT code that the perf map named. */
  jitNamed: number;
}

/**
 * The names of the code V8 generated in process `pid`, from the map `--perf-basic-prof` writes
 * (`/tmp/perf-PID.map`: `start size name`, hexadecimal, a line per piece of code as it is made; an
 * address used again later takes the later name). Read when a dump is made, so that it names the code
 * that ran. Without the map, the code keeps its address.
 */
function jitNames(pid: number): (address: string) => string | undefined {
  let lines: string[];
  try {
    lines = readFileSync(`/tmp/perf-${pid}.map`, 'utf8').split('\n');
  } catch {
    return () => undefined;
  }
  const byStart = new Map<number, { end: number; name: string }>();
  for (const line of lines) {
    const match = /^([0-9a-f]+) ([0-9a-f]+) (.+)$/.exec(line);
    if (!match?.[1] || !match[2] || !match[3]) continue;
    const start = Number.parseInt(match[1], 16);
    byStart.set(start, { end: start + Number.parseInt(match[2], 16), name: match[3] });
  }
  const starts = [...byStart.keys()].sort((a, b) => a - b);
  const root = `${pathToFileURL(process.cwd()).href}/`;
  return (address) => {
    const at = Number.parseInt(address, 16);
    let low = 0;
    let high = starts.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if ((starts[middle] as number) <= at) low = middle + 1;
      else high = middle - 1;
    }
    const entry = high >= 0 ? byStart.get(starts[high] as number) : undefined;
    return entry && at < entry.end ? entry.name.replace(root, '').replace('file://', '') : undefined;
  };
}

/** A dump's functions and their own instructions, through callgrind_annotate. */
function costsOf(dumpFile: string, into: Costs, nameJit: (address: string) => string | undefined): void {
  const table = execFileSync('callgrind_annotate', ['--threshold=100', '--auto=no', dumpFile], {
    encoding: 'utf8',
    maxBuffer: 256 * 2 ** 20,
  });
  for (const line of table.split('\n')) {
    // `22,652,344 ( 2.99%)  file:function [object]`, file `???` where the symbols name none.
    const match = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(?:\?\?\?|[^:\s]+):(.+?)(?: \[(.+)\])?$/.exec(line);
    if (!match || match[2] === undefined) continue;
    const instructions = Number(match[1]?.replaceAll(',', ''));
    const name = match[2];
    const object = match[3] ?? '???';
    const kind = KINDS.find((candidate) => candidate.matches(name, object))?.kind ?? 'other';
    into.byKind.set(kind, (into.byKind.get(kind) ?? 0) + instructions);
    const jit = object === '???' && /^0x[0-9a-f]+$/.test(name) ? nameJit(name) : undefined;
    const key = jit === undefined ? `${name} [${object}]` : `${jit} [JIT]`;
    if (jit !== undefined) into.jitNamed += instructions;
    into.byFunction.set(key, (into.byFunction.get(key) ?? 0) + instructions);
  }
}

/** A process under callgrind, and what its `callgrind_control` can do. */
interface Counted {
  child: Child;
  /** Counting on, the counters at zero. */
  start(): void;
  /** Counting off; resolves the instructions since `start` and the dump that holds them. */
  stop(): { instructions: number; dumpFile: string };
}

function counted(child: Child, outPrefix: string, workDir: string): Counted {
  const control = (...args: string[]) =>
    execFileSync('callgrind_control', [...args, String(child.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  return {
    child,
    start() {
      control('--instr=on');
      control('--zero');
    },
    stop() {
      control('--dump');
      control('--instr=off');
      // Dumps are numbered from 1 in the order made: `<prefix>.<pid>.<n>`.
      const stem = `${outPrefix}.${child.pid}.`;
      const numbers = readdirSync(workDir)
        .filter((name) => name.startsWith(stem))
        .map((name) => Number(name.slice(stem.length)))
        .filter(Number.isInteger);
      const dumpFile = join(workDir, `${stem}${Math.max(...numbers)}`);
      const summary = /^summary: (\d+)$/m.exec(readFileSync(dumpFile, 'utf8'))?.[1];
      if (summary === undefined) throw new Error(`${dumpFile}: no summary line`);
      return { instructions: Number(summary), dumpFile };
    },
  };
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const thousands = (value: number) => (value / 1_000).toFixed(1);

function report(
  perRefresh: Record<Target, number[]>,
  costs: Record<Target, Costs>,
  served: Record<Target, number>,
  loadBefore: number,
): string {
  const baseline = median(perRefresh.baseline);
  const hono = median(perRefresh.hono);
  const ratio = (value: number, of: number) => `${(value / of).toFixed(2)}x`;
  const rows = TARGETS.map((target) => {
    const value = median(perRefresh[target]);
    const against =
      target === 'baseline'
        ? ''
        : target === 'hono'
          ? ` ${ratio(value, baseline)}`
          : ` ${ratio(value, baseline)}; ${ratio(value, hono)} the Hono baseline`;
    const before =
      target === 'service' && hasBefore ? `; ${ratio(value, median(perRefresh.before))} before` : '';
    return `  ${LABELS[target].padEnd(15)}${thousands(value).padStart(8)} (${perRefresh[target].map(thousands).join(', ')})${against}${before}`;
  });
  const kindWidth = Math.max(...KINDS.map(({ kind }) => kind.length));
  const kindRows = KINDS.map(({ kind }) => {
    const cells = TARGETS.map((target) =>
      thousands((costs[target].byKind.get(kind) ?? 0) / served[target]).padStart(10),
    );
    return `  ${kind.padEnd(kindWidth)}${cells.join('')}`;
  });
  // The sum without the compilers is the steadier figure for a before and after: a build whose
  // compilers are still at work in its rounds counts tens of thousands more a refresh for it
  // (docs/benchmarks.md, "Three small cuts, counted").
  const sumRow = (label: string, leaveOut?: string) => {
    const cells = TARGETS.map((target) => {
      let sum = 0;
      for (const [kind, instructions] of costs[target].byKind) if (kind !== leaveOut) sum += instructions;
      return thousands(sum / served[target]).padStart(10);
    });
    return `  ${label.padEnd(kindWidth)}${cells.join('')}`;
  };
  const perHono = (name: string) => (costs.hono.byFunction.get(name) ?? 0) / served.hono;
  const functions = [...costs.service.byFunction]
    .map(([name, instructions]) => ({ name, service: instructions / served.service, hono: perHono(name) }))
    .sort((a, b) => b.service - b.hono - (a.service - a.hono))
    .slice(0, top)
    .map(
      ({ name, service, hono }) =>
        `  ${thousands(service).padStart(7)} ${thousands(hono).padStart(7)} ${thousands(service - hono).padStart(7)}  ${name}`,
    );
  return [
    `thousands of instructions per /refresh, median of ${rounds} rounds of ${requestsPerRound} (each round), ${connections} connections:`,
    ...rows,
    `by kind of code, thousands of instructions per /refresh over every round (by function name):`,
    `  ${''.padEnd(kindWidth)}${TARGETS.map((target) => SHORT_LABELS[target].padStart(10)).join('')}`,
    ...kindRows,
    sumRow('all of them'),
    sumRow('all but the compilers', COMPILERS),
    `JIT code named by V8's perf map: ${TARGETS.map((target) => {
      const jit = costs[target].byKind.get(JIT_CODE) ?? 0;
      return `${LABELS[target]} ${jit === 0 ? 0 : Math.round((100 * costs[target].jitNamed) / jit)}%`;
    }).join(', ')}`,
    `the ${top} functions the service spends the most instructions in over the Hono baseline (own instructions), thousands per /refresh:`,
    `  service    Hono    more`,
    ...functions,
    `load average ${loadBefore.toFixed(2)} -> ${(loadavg()[0] ?? Number.NaN).toFixed(2)} (it does not change the counts)`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  killChildrenOnExit();
  const workDir = mkdtempSync(join(tmpdir(), 'token-swap-instructions-'));
  process.once('exit', () => rmSync(workDir, { recursive: true, force: true }));
  const callgrind = (name: Target) => [
    'valgrind',
    '--quiet',
    '--tool=callgrind',
    '--instr-atstart=no',
    `--callgrind-out-file=${join(workDir, `callgrind.${name}.%p`)}`,
  ];
  if (jsNames) {
    // Every target alike: V8 writes /tmp/perf-PID.map as it compiles (and keeps its code in place).
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --perf-basic-prof`.trim();
  }
  const under = (name: Target) => ({ command: callgrind(name), timeoutMs: START_TIMEOUT_MS });
  const upstream = await startUpstream(workDir, 'stub');
  const accountsUrl = upstream.url;
  const serviceEnv = JSON.parse(process.env.IR_SERVICE_ENV ?? '{}') as Record<string, string>;
  const children: Partial<Record<Target, Child>> = {
    baseline: await startBaseline({
      workDir,
      accountsUrl,
      client: 'node-http',
      name: 'baseline',
      ...under('baseline'),
    }),
    hono: await startBundledBaseline({ name: 'hono', workDir, accountsUrl, ...under('hono') }),
    service: await startService({ workDir, accountsUrl, env: serviceEnv, ...under('service') }),
    before: hasBefore
      ? await startService({
          workDir,
          accountsUrl,
          env: { ...serviceEnv, ...(beforeEnv ? (JSON.parse(beforeEnv) as Record<string, string>) : {}) },
          ...(compareBin ? { bin: compareBin } : {}),
          name: 'before',
          ...under('before'),
        })
      : undefined,
  };
  log(`started under callgrind: ${TARGETS.join(', ')}`);
  process.once('exit', () => {
    for (const child of Object.values(children))
      if (child) rmSync(`/tmp/perf-${child.pid}.map`, { force: true });
  });
  const sealedThrough = async (child: Child) =>
    sealedRefreshTokens(child.url, await mintCodes(accountsUrl, TOKENS, REDIRECT_URI), swapBody, connections);
  const tokens: Partial<Record<Target, string[]>> = {
    baseline: await mintRefreshTokens(accountsUrl, TOKENS),
    hono: await mintRefreshTokens(accountsUrl, TOKENS),
    // The service accepts only tokens it sealed: swap codes through it, as a client would.
    service: await sealedThrough(children.service as Child),
    before: children.before && (await sealedThrough(children.before)),
  };
  const controls = Object.fromEntries(
    TARGETS.map((target) => [target, counted(children[target] as Child, `callgrind.${target}`, workDir)]),
  ) as Record<Target, Counted>;
  const served: Record<Target, number> = { baseline: 0, hono: 0, before: 0, service: 0 };
  const refreshes = async (target: Target, amount: number) => {
    const sample = await load({
      url: (children[target] as Child).url,
      path: '/refresh',
      connections,
      durationSeconds: 0,
      amount,
      bodies: slicedPerConnection(tokens[target] ?? [], connections, refreshBody),
    });
    if (sample.non2xx + sample.socketErrors > 0) {
      throw new Error(`${target} answered errors: ${JSON.stringify(sample.statusCodes)}`);
    }
    return sample.latenciesMs.length;
  };

  // The warm-up is not counted: V8 compiles the hot paths, at the speed Valgrind leaves it.
  for (const target of TARGETS) {
    log(`warm-up ${target}: ${await refreshes(target, warmup)} requests`);
  }
  const loadBefore = loadavg()[0] ?? Number.NaN;
  const perRefresh: Record<Target, number[]> = { baseline: [], hono: [], before: [], service: [] };
  const emptyCosts = (): Costs => ({ byKind: new Map(), byFunction: new Map(), jitNamed: 0 });
  const costs: Record<Target, Costs> = {
    baseline: emptyCosts(),
    hono: emptyCosts(),
    before: emptyCosts(),
    service: emptyCosts(),
  };
  for (let round = 0; round < rounds; round++) {
    for (const target of round % 2 === 0 ? TARGETS : [...TARGETS].reverse()) {
      controls[target].start();
      const requests = await refreshes(target, requestsPerRound);
      const { instructions, dumpFile } = controls[target].stop();
      served[target] += requests;
      perRefresh[target].push(instructions / requests);
      costsOf(dumpFile, costs[target], jsNames ? jitNames((children[target] as Child).pid) : () => undefined);
      log(
        `${target}: ${thousands(instructions / requests)} thousand instructions per refresh (${requests} requests)`,
      );
    }
  }
  process.stdout.write(report(perRefresh, costs, served, loadBefore));
  await stopAll();
}

await main();
