/**
 * The shell blocks of a Markdown page, and the note that marks one as not run by the tests: a
 * blockquote right before the block that starts with `**Not run by the tests:**` and gives the reason.
 * The note is visible to readers, so a command that cannot run here says so where it is written.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

export const NOT_RUN = '**Not run by the tests:**';

export interface ShellBlock {
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  body: string;
  /** The reason given in the note before the block, when it has one. */
  notRun?: string;
}

/** The blockquote that ends right before line `fence` (blank lines between allowed), as one string. */
function quoteBefore(lines: string[], fence: number): string {
  let end = fence - 1;
  while (end >= 0 && lines[end]?.trim() === '') end -= 1;
  let start = end;
  while (start >= 0 && lines[start]?.startsWith('>')) start -= 1;
  return lines
    .slice(start + 1, end + 1)
    .map((line) => line.replace(/^>\s?/, ''))
    .join(' ')
    .trim();
}

export function shellBlocks(root: string, page: string): ShellBlock[] {
  const lines = readFileSync(join(root, page), 'utf8').split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const fence = /^```(\w*)$/.exec(lines[i] ?? '');
    if (!fence) continue;
    const close = lines.indexOf('```', i + 1);
    if (close === -1) throw new Error(`${page}:${i + 1}: a code block that is never closed`);
    if (fence[1] === 'sh') {
      const quote = quoteBefore(lines, i);
      const block: ShellBlock = { page, line: i + 1, body: `${lines.slice(i + 1, close).join('\n')}\n` };
      if (quote.startsWith(NOT_RUN)) block.notRun = quote.slice(NOT_RUN.length).trim();
      blocks.push(block);
    }
    i = close;
  }
  return blocks;
}

/**
 * What a block's comments say a line prints (`curl -s $SWAP/healthz   # {"status":"ok"}`), as a
 * pattern in which `...` stands for anything; `undefined` for a line without such a comment.
 */
export function shownOutput(line: string): RegExp | undefined {
  const shown = /\s#\s+(\{.*\}|".*)$/.exec(line)?.[1];
  if (shown === undefined) return undefined;
  const parts = shown.split('...').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`);
}

/**
 * Every block either ran (in `ran`) or carries the note with its reason, never both; and none that
 * `cannotRunHere` matches (a command this machine cannot run) goes unmarked.
 */
export function expectEveryBlockRunOrMarked(
  blocks: readonly ShellBlock[],
  ran: ReadonlySet<ShellBlock>,
  cannotRunHere: RegExp,
): void {
  expect(blocks.length).toBeGreaterThan(10);
  const where = (b: ShellBlock) => `${b.page}:${b.line}`;
  expect(
    blocks.filter((b) => !ran.has(b) && b.notRun === undefined).map(where),
    'neither run nor marked',
  ).toEqual([]);
  expect(blocks.filter((b) => ran.has(b) && b.notRun !== undefined).map(where), 'run, yet marked').toEqual(
    [],
  );
  expect(blocks.filter((b) => b.notRun === '').map(where), 'marked without a reason').toEqual([]);
  expect(
    blocks.filter((b) => cannotRunHere.test(b.body) && b.notRun === undefined).map(where),
    'cannot run here, yet not marked',
  ).toEqual([]);
}
