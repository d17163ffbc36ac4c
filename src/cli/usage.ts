/**
 * The command line as citty would read it, checked strictly: citty ignores an unknown option, so
 * a typo (`--swapurl`) would run the command without it. Every option is checked against the
 * command's args definitions, in each spelling citty accepts, and anything else is bad usage.
 */
import { stripVTControlCharacters } from 'node:util';
import { type ArgsDef, type CommandDef, renderUsage } from 'citty';
import { usageFailure } from './fail.js';
import type { Writer } from './io.js';

const HELP_FLAGS = ['--help', '-h'] as const;

/** The arguments before `--`: after it, nothing is an option. */
export function beforeDashDash(rawArgs: readonly string[]): readonly string[] {
  const end = rawArgs.indexOf('--');
  return end === -1 ? rawArgs : rawArgs.slice(0, end);
}

export function asksForHelp(rawArgs: readonly string[]): boolean {
  return beforeDashDash(rawArgs).some((arg) => (HELP_FLAGS as readonly string[]).includes(arg));
}

const camelCase = (name: string) => name.replace(/-([a-z\d])/g, (_, char: string) => char.toUpperCase());
const kebabCase = (name: string) => name.replace(/[A-Z]/g, (char) => `-${char.toLowerCase()}`);

interface Option {
  /** How usage shows it, e.g. `--swap-url`. */
  label: string;
  takesValue: boolean;
}

/** The spellings of one option: its name in citty's forms, its aliases, and `--no-` for a boolean. */
function spellingsOf(name: string, def: ArgsDef[string]): [string, Option][] {
  const option = { label: `--${name}`, takesValue: def.type === 'string' || def.type === 'enum' };
  const forms = [name, camelCase(name), kebabCase(name)];
  const aliases: string[] = 'alias' in def && def.alias !== undefined ? [def.alias].flat() : [];
  const entries: [string, Option][] = [
    ...forms.map((form): [string, Option] => [`--${form}`, option]),
    ...aliases.map((alias): [string, Option] => [alias.length === 1 ? `-${alias}` : `--${alias}`, option]),
  ];
  if (def.type === 'boolean') {
    const negated = { label: `--no-${name}`, takesValue: false };
    for (const form of [...forms, ...aliases]) entries.push([`--no-${form}`, negated]);
  }
  return entries;
}

/** Every spelling citty accepts for each option: the name, its camelCase and kebab-case forms, aliases. */
function spellings(args: ArgsDef): Map<string, Option> {
  const known = new Map<string, Option>();
  for (const [name, def] of Object.entries(args)) {
    if (def.type === 'positional') continue;
    for (const [spelling, option] of spellingsOf(name, def)) known.set(spelling, option);
  }
  for (const flag of HELP_FLAGS) known.set(flag, { label: '--help', takesValue: false });
  return known;
}

/** Edit distance with transpositions (optimal string alignment): `--sawp-url` is one edit away. */
function distance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  const cell = (i: number, j: number): number => {
    const best = Math.min(
      at(i - 1, j) + 1,
      at(i, j - 1) + 1,
      at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1),
    );
    const swapped = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1];
    return swapped ? Math.min(best, at(i - 2, j - 2) + 1) : best;
  };
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) (rows[i] as number[])[j] = cell(i, j);
  }
  return at(a.length, b.length);
}

/** The closest candidate, when it is close enough to be what was meant. */
function closest(input: string, candidates: Iterable<string>): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const d = distance(input.toLowerCase(), candidate.toLowerCase());
    if (d < (best?.distance ?? Number.POSITIVE_INFINITY)) best = { candidate, distance: d };
  }
  if (!best) return undefined;
  const prefix = best.candidate.startsWith(input) || input.startsWith(best.candidate);
  return best.distance <= Math.max(2, Math.floor(input.length / 4)) || prefix ? best.candidate : undefined;
}

export function didYouMean(input: string, candidates: Iterable<string>): string {
  const suggestion = closest(input, candidates);
  return suggestion === undefined ? '' : ` Did you mean ${suggestion}?`;
}

/**
 * Throws a usage failure for an option the command does not define, or for an argument it does not
 * take (none of the commands takes positional arguments).
 */
export function checkArgs(rawArgs: readonly string[], args: ArgsDef, commandName: string): void {
  const known = spellings(args);
  const takesPositionals = Object.values(args).some((def) => def.type === 'positional');
  const unexpected = (arg: string) => usageFailure(`${commandName} takes no argument "${arg}".`);
  const options = beforeDashDash(rawArgs);
  for (let i = 0; i < options.length; i++) {
    const arg = options[i] as string;
    if (!arg.startsWith('-') || arg === '-') {
      if (!takesPositionals) throw unexpected(arg);
      continue;
    }
    const [flag = arg, value] = arg.split(/=(.*)/s, 2);
    const option = known.get(flag);
    if (!option) {
      const labels = new Set([...known.values()].map((o) => o.label));
      throw usageFailure(`Unknown option ${flag} for ${commandName}.${didYouMean(flag, labels)}`);
    }
    // citty takes the next argument as the value of a string option given without `=`.
    if (option.takesValue && value === undefined) i++;
  }
  const afterDashDash = rawArgs[options.length + 1];
  if (!takesPositionals && afterDashDash !== undefined) throw unexpected(afterDashDash);
}

/** citty's usage text, without colour unless it goes to a terminal. */
export async function usageText(command: CommandDef, parent: CommandDef | undefined, to: Writer) {
  const text = await renderUsage(command, parent);
  return to.isTTY ? text : stripVTControlCharacters(text);
}
