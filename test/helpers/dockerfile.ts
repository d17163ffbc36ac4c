/**
 * What the Dockerfile's final stage says about how the image runs: its CMD, the port it EXPOSEs, its
 * ENV and its HEALTHCHECK. Strict on purpose: an instruction written in a form this reader does not
 * know fails the test that uses it, rather than being read wrong.
 */
import { readFileSync } from 'node:fs';

export interface ImageRuntime {
  cmd: string[];
  exposedPort: number;
  env: Record<string, string>;
  healthcheck: {
    /** `--interval=30s` and the like, by option name without the dashes. */
    options: Record<string, string>;
    cmd: string[];
    /** The path the check command requests. */
    path: string;
  };
}

/** Instructions of the last stage, continuation lines joined, comments dropped. */
function lastStage(text: string): string[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const from = lines.map((line) => /^FROM\s/i.test(line)).lastIndexOf(true);
  if (from === -1) throw new Error('no FROM in the Dockerfile');
  return lines.slice(from + 1);
}

function only(stage: string[], name: string): string {
  const found = stage.filter((line) => line.toUpperCase().startsWith(`${name} `));
  if (found.length !== 1) throw new Error(`expected one ${name} in the final stage, found ${found.length}`);
  return (found[0] ?? '').slice(name.length).trim();
}

function execForm(text: string, what: string): string[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) {
    throw new Error(`${what} is not in exec form (a JSON array of strings)`);
  }
  return parsed;
}

function envOf(stage: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of stage.filter((l) => /^ENV\s/i.test(l))) {
    for (const pair of line.slice(4).trim().split(/\s+/)) {
      const match = /^([A-Z_][A-Z0-9_]*)=([^"'\s]*)$/.exec(pair);
      if (!match?.[1]) throw new Error(`ENV entry "${pair}" is not a plain KEY=value`);
      env[match[1]] = match[2] ?? '';
    }
  }
  return env;
}

function healthcheckOf(stage: string[]): ImageRuntime['healthcheck'] {
  const match = /^((?:--[a-z-]+=\S+\s+)*)CMD\s+(\[.*\])$/.exec(only(stage, 'HEALTHCHECK'));
  if (!match) throw new Error('HEALTHCHECK is not `[--option=value ...] CMD [...]`');
  const options = Object.fromEntries(
    [...(match[1] ?? '').matchAll(/--([a-z-]+)=(\S+)/g)].map(([, name = '', value = '']) => [name, value]),
  );
  const cmd = execForm(match[2] ?? '', 'HEALTHCHECK CMD');
  const path = /127\.0\.0\.1:.*?'(\/[\w./-]*)'/.exec(cmd.join(' '))?.[1];
  if (!path) throw new Error('the HEALTHCHECK command requests no http://127.0.0.1 path');
  return { options, cmd, path };
}

export function readImageRuntime(path: string): ImageRuntime {
  const stage = lastStage(readFileSync(path, 'utf8'));
  const exposed = only(stage, 'EXPOSE');
  if (!/^\d+$/.test(exposed)) throw new Error(`EXPOSE ${exposed} is not one TCP port`);
  return {
    cmd: execForm(only(stage, 'CMD'), 'CMD'),
    exposedPort: Number(exposed),
    env: envOf(stage),
    healthcheck: healthcheckOf(stage),
  };
}
