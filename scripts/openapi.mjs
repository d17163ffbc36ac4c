/**
 * Writes docs/openapi.json from src/server/openapi/ (`npm run openapi`), formatted as biome
 * formats JSON so `npm run lint` accepts it. `--check` only says whether the file is up to date.
 * test/openapi.test.ts fails when the committed file is stale.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '../src/server/openapi/index.ts';

const target = fileURLToPath(new URL('../docs/openapi.json', import.meta.url));
const biome = fileURLToPath(new URL('../node_modules/@biomejs/biome/bin/biome', import.meta.url));

/** The committed text of the document: JSON as biome formats it. */
function render() {
  const json = JSON.stringify(openApiDocument(), null, 2);
  return execFileSync(process.execPath, [biome, 'format', `--stdin-file-path=${target}`], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    input: json,
    encoding: 'utf8',
  });
}

const text = render();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {}
  if (current !== text) {
    console.error('docs/openapi.json is stale: run `npm run openapi`');
    process.exit(1);
  }
  console.log('docs/openapi.json is up to date');
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}
