/**
 * `token-swap login` with a real browser: headless Chromium opens the authorize URL that login
 * prints, a person's click on Agree is made on the sandbox consent page, the browser follows the
 * redirect to login's loopback catcher, login finishes, and the page says how it ended.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './helpers/browser.js';
import { type CliRun, runCli } from './helpers/cli.js';
import { waitForStdout } from './helpers/cli-stdout.js';
import { injectFault } from './helpers/sandbox-control.js';

let browser: Browser;
let server: CliRun;
let serviceUrl: string;

beforeAll(async () => {
  [browser, server] = await Promise.all([
    launchBrowser(),
    Promise.resolve(runCli(['serve', '--sandbox', '--port', '0'])),
  ]);
  const [, url] = await server.waitFor(/Swap service\s+(http:\/\/\S+)/);
  serviceUrl = url ?? '';
});
afterAll(async () => {
  await browser?.close();
  server?.child.kill('SIGTERM');
});

function login(store: string): CliRun {
  return runCli([
    'login',
    '--swap-url',
    serviceUrl,
    '--client-id',
    'sandbox-client-id',
    '--accounts-url',
    `${serviceUrl}/sandbox`,
    '--scope',
    'user-read-email streaming',
    '--no-open',
    '--store',
    store,
  ]);
}

describe('token-swap login in a real browser', () => {
  it('completes when the user clicks Agree on the consent page', async () => {
    const store = join(mkdtempSync(join(tmpdir(), 'browser-login-')), 'tokens.json');
    const run = login(store);
    const [, url] = await waitForStdout(run, /log in:\n {2}(\S+)/);
    const page = await browser.newPage();
    await page.goto(url ?? '');
    expect(await page.textContent('body')).toContain('streaming');
    await page.click('#agree');
    await page.waitForURL(/127\.0\.0\.1:\d+\/callback\?code=/);
    // The page shows the outcome of the swap, with who logged in, not just that a code arrived.
    expect(await page.textContent('#result')).toBe('Logged in');
    expect(await page.textContent('body')).toMatch(
      /Logged in as Sandbox User \([\w-]+\)\. You can close this window and go back to your terminal\./,
    );
    expect((await run.exited).code).toBe(0);
    expect(run.stdout()).toMatch(/Logged in as Sandbox User/);
    expect(run.stdout()).toContain('Scopes:        user-read-email streaming');

    const token = runCli(['token', '--store', store]);
    expect((await token.exited).code).toBe(0);
    expect(token.stdout()).toMatch(/^BQ[\w-]+\n$/);
    await page.close();
  });

  it('shows the failed swap in the browser, not "Logged in", when the code exchange fails', async () => {
    const store = join(mkdtempSync(join(tmpdir(), 'browser-login-')), 'tokens.json');
    const run = login(store);
    const [, url] = await waitForStdout(run, /log in:\n {2}(\S+)/);
    const page = await browser.newPage();
    await page.goto(url ?? '');
    await injectFault(`${serviceUrl}/sandbox`, { kind: 'status', status: 503, count: 1 });
    await page.click('#agree');
    await page.waitForURL(/127\.0\.0\.1:\d+\/callback\?code=/);
    expect(await page.textContent('#result')).toBe('Login failed');
    expect(await page.textContent('body')).toContain(
      'The swap service could not get tokens (upstream_error:',
    );
    expect((await run.exited).code).toBe(4);
    await page.close();
  });

  it('fails with exit 5 and tells the browser, when the user clicks Cancel', async () => {
    const store = join(mkdtempSync(join(tmpdir(), 'browser-login-')), 'tokens.json');
    const run = login(store);
    const [, url] = await waitForStdout(run, /log in:\n {2}(\S+)/);
    const page = await browser.newPage();
    await page.goto(url ?? '');
    await page.click('#cancel');
    await page.waitForURL(/error=access_denied/);
    expect(await page.textContent('#result')).toBe('Login failed');
    expect((await run.exited).code).toBe(5);
    expect(run.stderr()).toContain('Login cancelled in the browser.');
    await page.close();
  });

  it('serve --sandbox also serves the browser demo, which logs in through the service in cookie mode', async () => {
    const page = await browser.newPage();
    await page.goto(`${serviceUrl}/demo`);
    await page.click('#login');
    const swapped = page.waitForResponse((response) => new URL(response.url()).pathname === '/session/swap');
    await page.click('#agree');
    // Same site as the service (its own origin): the session cookie is set and kept.
    expect((await swapped).status()).toBe(200);
    await page.waitForSelector('#scopes .scope, #scopes li, #scopes span');
    expect(await page.textContent('#scopes')).toContain('user-read-email');
    expect(await page.textContent('#profile')).toContain('Sandbox User');
    expect(page.url()).toBe(`${serviceUrl}/demo`);
    expect((await page.context().cookies(serviceUrl)).map((cookie) => cookie.name)).toEqual([
      '__Host-token-swap',
    ]);
    await page.close();
  });
});
