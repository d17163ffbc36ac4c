/**
 * The documents hold together: every relative link in the README and docs/ reaches a file (and, for a
 * Markdown file, a heading), and every document a comment in the code cites is in this repository, down
 * to the section number (`docs/spotify-accounts.md §2`).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function filesUnder(dir: string, keep: (path: string) => boolean): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : filesUnder(path, keep);
    return keep(path) ? [path] : [];
  });
}

const markdown = ['README.md', ...filesUnder('docs', (path) => path.endsWith('.md'))];
const code = ['src', 'test', 'bench', 'scripts'].flatMap((dir) =>
  filesUnder(dir, (path) => /\.(ts|mjs)$/.test(path)),
);

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((match) => slug(match[1] ?? '')));
}

/** What is wrong with a relative link from `file`, if anything. */
function linkProblem(file: string, target: string): string | undefined {
  const [path = '', anchor] = target.split('#');
  const resolved = path === '' ? file : relative(ROOT, resolve(ROOT, dirname(file), path));
  if (!existsSync(join(ROOT, resolved))) return 'no such file';
  if (!anchor) return undefined;
  if (statSync(join(ROOT, resolved)).isDirectory()) return 'an anchor into a folder';
  return resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor) ? 'no such heading' : undefined;
}

describe('documentation', () => {
  it('links only to files and headings that exist', () => {
    const broken = markdown.flatMap((file) => {
      const text = readFileSync(join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
      return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
        .map(([, target = '']) => target)
        .filter((target) => !/^(https?:|mailto:)/.test(target))
        .flatMap((target) => {
          const problem = linkProblem(file, target);
          return problem ? [`${file}: ${target} (${problem})`] : [];
        });
    });
    expect(broken).toEqual([]);
  });

  it('is what the code cites: each cited document exists, and each cited section of docs/spotify-accounts.md', () => {
    const sections = new Set(
      [...readFileSync(join(ROOT, 'docs/spotify-accounts.md'), 'utf8').matchAll(/^## (\d+)\. /gm)].map(
        (m) => m[1],
      ),
    );
    const missing: string[] = [];
    for (const file of code) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const [, cited = ''] of text.matchAll(/(?<![\w/.-])(docs\/[\w./-]+\.md)\b/g)) {
        if (!existsSync(join(ROOT, cited))) missing.push(`${file}: ${cited}`);
      }
      for (const [, first = '', last] of text.matchAll(/docs\/spotify-accounts\.md §(\d+)(?:-(\d+))?/g)) {
        for (const section of [first, last].filter((s): s is string => s !== undefined)) {
          if (!sections.has(section)) missing.push(`${file}: docs/spotify-accounts.md §${section}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('cites no document from outside the repository', () => {
    const outside = [...markdown, ...code].filter((file) =>
      readFileSync(join(ROOT, file), 'utf8').includes(['wire', 'facts'].join('-')),
    );
    expect(outside).toEqual([]);
  });
});
