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
