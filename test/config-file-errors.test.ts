/**
 * A malformed apps file is reported by place, never by content: `serve` and `doctor` say the line and
 * the column and what is wrong there, and no piece of the file (which holds secrets) reaches stderr.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyDir, runCli } from './helpers/cli.js';

const SECRET = 'SUPERSECRET-0123456789abcdef';
const MALFORMED = `{\n  "apps": {\n    "web": {\n      "clientId": "web-id",\n      "clientSecret": ${SECRET},\n      "redirectUris": ["myapp://cb"]\n    }\n  }\n}\n`;

describe('a malformed apps file (config errors echo secrets)', () => {
  it.each([['serve'], ['doctor', '--offline']])(
    '%s names the line and column, and prints no secret',
    async (...args) => {
      const cwd = emptyDir();
      writeFileSync(join(cwd, 'token-swap.config.json'), MALFORMED);
      const run = runCli(args, { cwd });
      expect((await run.exited).code).toBe(1);
      const output = run.stderr() + run.stdout();
      expect(output).toContain('token-swap.config.json: not valid JSON (line 5, column 23');
      expect(output).not.toContain('SUPERSECRET');
      expect(output).not.toContain('clientSecret');
    },
  );
});
