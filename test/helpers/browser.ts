import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's chromium; CI installs it (`apt-get install chromium`). */
const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Headless Chromium for real-browser tests. A missing browser fails the test loudly: a skipped browser
 * test looks like a passing one.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}; the browser tests need it (on Debian/Ubuntu: apt-get install chromium)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      // Tests may run as root, where Chromium's sandbox cannot start.
      '--no-sandbox',
      '--disable-gpu',
      // No network beyond loopback: keep Chromium from phoning home and waiting on it.
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A page that loads the client kit (`/kit.js`, served with kitBundle()'s text) as `window.kit`. */
export const KIT_PAGE = `<!doctype html><meta charset="utf-8"><title>app</title>
<script type="module">import * as kit from '/kit.js'; window.kit = kit; document.title = 'ready';</script>`;

/** The client kit (src/client/index.ts) bundled for a browser, as an app's build would ship it. */
export async function kitBundle(): Promise<string> {
  const { build } = await import('esbuild');
  const bundle = await build({
    entryPoints: [new URL('../../src/client/index.ts', import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return bundle.outputFiles[0]?.text ?? '';
}
