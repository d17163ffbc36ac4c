/**
 * The `token-swap` command and its runner. citty parses a command's options and runs it; the
 * runner resolves the subcommand, checks the command line strictly, and is the one place where
 * what a command threw becomes a message and an exit code. bin/token-swap.js exits with that code;
 * nothing else ends the process, so a test can run any command in-process with its own `io`.
 */
import { inspect } from 'node:util';
import { type ArgsDef, type CommandDef, defineCommand, runCommand, type SubCommandsDef } from 'citty';
import { VERSION } from '../runtimes/node/server.js';
import { EXIT, type ExitCode, knownFailure, usageFailure } from './fail.js';
import { type CliIo, processIo, terminalIo } from './io.js';
import { asksForHelp, beforeDashDash, checkArgs, didYouMean, usageText } from './usage.js';

// Loaded on demand: `token-swap token` in a script should not pay for the server's modules.
const subCommands = {
  serve: () => import('./commands/serve.js').then((m) => m.default),
  sandbox: () => import('./commands/sandbox.js').then((m) => m.default),
  login: () => import('./commands/login.js').then((m) => m.default),
  token: () => import('./commands/token.js').then((m) => m.default),
  refresh: () => import('./commands/refresh.js').then((m) => m.default),
  status: () => import('./commands/status.js').then((m) => m.default),
  logout: () => import('./commands/logout.js').then((m) => m.default),
  doctor: () => import('./commands/doctor.js').then((m) => m.default),
  secret: () => import('./commands/secret.js').then((m) => m.default),
} satisfies SubCommandsDef;

type CommandName = keyof typeof subCommands;

const main = defineCommand({
  meta: {
    name: 'token-swap',
    version: VERSION,
    description: 'Token swap service for Spotify apps, with a fake Spotify Accounts sandbox',
  },
  subCommands,
});

/** What the top level accepts besides a command; `--help` is accepted everywhere. */
const TOP_LEVEL_ARGS = {
  version: { type: 'boolean', alias: 'v', description: 'Print the version' },
} as const satisfies ArgsDef;
const VERSION_FLAGS = ['--version', '-v'];

const isCommand = (name: string): name is CommandName => Object.hasOwn(subCommands, name);
const isExitCode = (value: unknown): value is ExitCode => (Object.values(EXIT) as unknown[]).includes(value);

type UsageOf = { command: CommandDef; parent?: CommandDef };

/** `token-swap` with no command: its help, its version, or bad usage. */
async function runTopLevel(rawArgs: readonly string[], wantsVersion: boolean, io: CliIo): Promise<ExitCode> {
  if (asksForHelp(rawArgs)) {
    io.stdout.write(`${await usageText(main, undefined, io.stdout)}\n`);
    return EXIT.ok;
  }
  checkArgs(rawArgs, TOP_LEVEL_ARGS, 'token-swap');
  if (rawArgs.length === 1 && wantsVersion) {
    io.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  throw usageFailure(wantsVersion ? '--version takes nothing else.' : 'No command given.');
}

/** One command with its own arguments (`rest`), or its help. */
async function runSubcommand(
  name: CommandName,
  rest: readonly string[],
  wantsHelp: boolean,
  io: CliIo,
  usageOf: UsageOf,
): Promise<ExitCode> {
  // Each command's args are typed for its own run; the runner needs only their definitions.
  const command = (await subCommands[name]()) as unknown as CommandDef;
  usageOf.command = command;
  usageOf.parent = main;
  // As citty: --help anywhere shows the usage of the command.
  if (wantsHelp) {
    io.stdout.write(`${await usageText(command, main, io.stdout)}\n`);
    return EXIT.ok;
  }
  const args = typeof command.args === 'function' ? await command.args() : await command.args;
  checkArgs(rest, args ?? {}, `token-swap ${name}`);
  const { result } = await runCommand(command, { rawArgs: [...rest], data: io });
  // A command's verdict that is not a failure (doctor's "problems found") comes back as a code.
  return isExitCode(result) ? result : EXIT.ok;
}

/**
 * Runs `token-swap` with `rawArgs` (without node and the script) and resolves with the exit code.
 * Never throws: a failure is printed to `io.stderr`.
 */
export async function runCli(rawArgs: readonly string[], io: CliIo = processIo()): Promise<ExitCode> {
  const usageOf: UsageOf = { command: main };
  try {
    // As citty: the command is the first argument that is not an option (the top level takes no values).
    const at = beforeDashDash(rawArgs).findIndex((arg) => !arg.startsWith('-'));
    const leading = at === -1 ? rawArgs : rawArgs.slice(0, at);
    const wantsVersion = leading.some((arg) => VERSION_FLAGS.includes(arg));
    if (at === -1) return await runTopLevel(rawArgs, wantsVersion, io);
    const name = rawArgs[at] as string;
    if (!isCommand(name)) {
      throw usageFailure(`Unknown command "${name}".${didYouMean(name, Object.keys(subCommands))}`);
    }
    if (wantsVersion) throw usageFailure('--version takes nothing else.');
    checkArgs(leading, {}, 'token-swap');
    return await runSubcommand(name, rawArgs.slice(at + 1), asksForHelp(rawArgs), io, usageOf);
  } catch (error) {
    return report(error, io, usageOf);
  }
}

/** The one place where what a command threw becomes a message and an exit code. */
async function report(error: unknown, io: CliIo, usageOf: UsageOf): Promise<ExitCode> {
  const failure = knownFailure(error);
  if (!failure) {
    // A bug: everything there is to know about it, for the report.
    terminalIo(io).stderr.write(`token-swap: unexpected error\n${inspect(error)}\n`);
    return EXIT.failure;
  }
  if (failure.showUsage) {
    io.stderr.write(`${await usageText(usageOf.command, usageOf.parent, io.stderr)}\n\n`);
  }
  // A failure's message may quote what a peer said: written as the commands' own output is.
  terminalIo(io).stderr.write(`token-swap: ${failure.message}\n`);
  return failure.exitCode;
}
