/** Node's side of the browser demo: the page's script, as the build bundled it. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The package root is two levels up from both src/cli (vitest, tsx) and dist/cli (the build), and the
// bundle exists only in dist/.
const BUNDLE = new URL('../../dist/demo/browser.js', import.meta.url);

/** The bundle scripts/build-demo.mjs writes; read once at start-up and handed to `createDemoApp`. */
export function readDemoScript(): string {
  try {
    return readFileSync(BUNDLE, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
      throw new Error(
        `The browser demo's script is not built (no ${fileURLToPath(BUNDLE)}): run npm run build`,
        {
          cause,
        },
      );
    }
    throw cause;
  }
}
