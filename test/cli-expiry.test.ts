/**
 * "N min left": one rule for `login`, `status` and `refresh`, on the commands' own clock (the `io`
 * seam), so that the same token and the same moment read the same everywhere.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeExpiry } from '../src/cli/expiry.js';
import { runCli } from '../src/cli/main.js';
import { memoryIo } from './helpers/cli-io.js';
import { CLIENT_ID, CLIENT_SECRET, type Stack, startStack } from './helpers/stack.js';

const clockOf = (ms: number) =>
  new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

describe('describeExpiry', () => {
  const expiresAt = Date.UTC(2026, 0, 1, 14, 5, 30);
  const at = clockOf(expiresAt);

  it('counts down in whole minutes, rounded down, and in seconds under a minute', () => {
    expect(describeExpiry(expiresAt, expiresAt - 3_600_000)).toBe(`valid until ${at} (60 min left)`);
    // A countdown never promises more than is left: 59 min 59.9 s is 59 min.
    expect(describeExpiry(expiresAt, expiresAt - 3_599_900)).toBe(`valid until ${at} (59 min left)`);
    expect(describeExpiry(expiresAt, expiresAt - 60_000)).toBe(`valid until ${at} (1 min left)`);
    expect(describeExpiry(expiresAt, expiresAt - 59_999)).toBe(`valid until ${at} (59 s left)`);
    expect(describeExpiry(expiresAt, expiresAt - 400)).toBe(`valid until ${at} (1 s left)`);
  });

  it('says when it expired once it has', () => {
    expect(describeExpiry(expiresAt, expiresAt)).toBe(`expired at ${at}`);
    expect(describeExpiry(expiresAt, expiresAt + 90_000)).toBe(`expired at ${at}`);
  });
});

describe('login, status and refresh on one clock', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      sandbox: {
        clients: [
          { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: ['http://127.0.0.1/callback'] },
        ],
      },
      env: { SPOTIFY_REDIRECT_URI: 'http://127.0.0.1/callback' },
    });
  });
  afterAll(() => stack.close());

  it('say the same time left for the same token at the same moment', async () => {
    // The commands' clock: the sandbox's tokens last 3600 s from the moment login receives them.
    let now = Date.now();
    const clock = () => now;
    const store = join(mkdtempSync(join(tmpdir(), 'cli-expiry-')), 'tokens.json');
    const app = ['--swap-url', stack.service.url, '--client-id', CLIENT_ID];
    const accounts = ['--accounts-url', stack.accounts.url, '--store', store];

    const loginIo = memoryIo({}, clock);
    const login = runCli(['login', ...app, ...accounts, '--no-open'], loginIo);
    await expect.poll(() => loginIo.out()).toMatch(/Waiting for the redirect/);
    const [, url = ''] = /log in:\n {2}(\S+)/.exec(loginIo.out()) ?? [];
    // The sandbox approves at once; following its redirect lands on the login's loopback catcher.
    await (await fetch(url)).text();
    expect(await login).toBe(0);
    const expiresAt = now + 3_600_000;
    expect(loginIo.out()).toContain(
      `  Access token:  valid until ${clockOf(expiresAt)} (60 min left); \`token-swap token\` refreshes it when needed\n`,
    );

    now += 30_000;
    const statusIo = memoryIo({}, clock);
    expect(await runCli(['status', '--store', store], statusIo)).toBe(0);
    expect(statusIo.out()).toContain(`  Access token:  valid until ${clockOf(expiresAt)} (59 min left)\n`);

    const refreshIo = memoryIo({}, clock);
    expect(await runCli(['refresh', '--store', store], refreshIo)).toBe(0);
    expect(refreshIo.out()).toBe(
      `Refreshed. Access token valid until ${clockOf(now + 3_600_000)} (60 min left).\n`,
    );
  });
});
