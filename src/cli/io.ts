/**
 * What a command may touch of the world around it: its output streams, its environment and the
 * signals that stop it. The runner hands commands an `io` through citty's `context.data`, so a test
 * can run a command in-process and read what it printed.
 */
import type { CommandContext } from 'citty';
import type { SignalSource } from '../runtimes/node/server.js';
import { launchedByNpm, withParentEnd } from './npm-parent.js';
import { terminalText } from './terminal-text.js';

export type { SignalSource, StopSignal } from '../runtimes/node/server.js';

export interface Writer {
  write(text: string): unknown;
  /** A terminal: only then may output carry colour. */
  readonly isTTY?: boolean;
}

export interface CliIo {
  stdout: Writer;
  stderr: Writer;
  env: Readonly<Record<string, string | undefined>>;
  signals: SignalSource;
  /** The clock of what a command says about time ("59 min left"), so that a test can fix it. */
  now: () => number;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    // npm hands a SIGTERM to its shell only: under npm, the shell's end counts as one (npm-parent.ts).
    signals: launchedByNpm(process.env) ? withParentEnd(process) : process,
    now: Date.now,
  };
}

/** A writer that lets no control sequence through: what it is given may come from the network. */
function terminalWriter(writer: Writer): Writer {
  return { isTTY: writer.isTTY, write: (text: string) => writer.write(terminalText(text)) };
}

/**
 * `io` with output that a terminal only shows (terminal-text.ts). Everything a command prints goes
 * through it, whoever wrote the command: `ioOf` is how every command gets its io.
 */
export function terminalIo(io: CliIo): CliIo {
  return { ...io, stdout: terminalWriter(io.stdout), stderr: terminalWriter(io.stderr) };
}

/** The runner's io, or the process's when a command is run by citty directly; its output is terminal-safe. */
export function ioOf(context: Pick<CommandContext, 'data'>): CliIo {
  const data = context.data as Partial<CliIo> | undefined;
  const io =
    data?.stdout && data.stderr && data.env && data.signals && data.now ? (data as CliIo) : processIo();
  return terminalIo(io);
}
