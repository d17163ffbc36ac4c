/** The command line as citty reads it, and citty's usage text. */
import { type CommandDef, renderUsage } from 'citty';
import type { Writer } from './io.js';

export const HELP_FLAGS = ['--help', '-h'] as const;

/** The arguments before `--`: after it, nothing is an option. */
export function beforeDashDash(rawArgs: readonly string[]): readonly string[] {
  const end = rawArgs.indexOf('--');
  return end === -1 ? rawArgs : rawArgs.slice(0, end);
}

export function asksForHelp(rawArgs: readonly string[]): boolean {
  return beforeDashDash(rawArgs).some((arg) => (HELP_FLAGS as readonly string[]).includes(arg));
}

export async function usageText(command: CommandDef, parent: CommandDef | undefined, _to: Writer) {
  return renderUsage(command, parent);
}
