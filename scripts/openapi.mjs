/**
 * Writes docs/openapi.json from src/server/openapi/ (`npm run openapi`), formatted as biome
 * formats JSON so `npm run lint` accepts it, after writing package.json's version into
 * src/server/openapi/version.ts (the document's `info.version`). `--check` only says whether both
 * are up to date. test/openapi.test.ts fails when either is stale.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const target = fileURLToPath(new URL('../docs/openapi.json', import.meta.url));
const versionModule = fileURLToPath(new URL('../src/server/openapi/version.ts', import.meta.url));
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

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const versionText = readFileSync(versionModule, 'utf8');
const withVersion = versionText.replace(/PACKAGE_VERSION = '[^']*'/, `PACKAGE_VERSION = '${version}'`);
const check = process.argv.includes('--check');
if (withVersion !== versionText) {
  if (check) {
    console.error('src/server/openapi/version.ts is stale: run `npm run openapi`');
    process.exit(1);
  }
  writeFileSync(versionModule, withVersion);
  console.log(`wrote ${versionModule}`);
}
// Imported after the version is written, so that the document carries it.
const { openApiDocument } = await import('../src/server/openapi/index.ts');

const text = render();
if (check) {
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
