/**
 * The login's end in the CLI: `status` says by when to sign in again, and it, `token` and `refresh`
 * warn on stderr in the last 14 days (stdout stays what scripts read); an ended login is exit 3 with
 * the service's sentence; a spent Web API quota is said as such. In-process, against the real service
 * and the sandbox, with the stored login written by the kit's file store.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calendarDate, describeLoginEnd, timeLeft } from '../src/cli/expiry.js';
import { runCli } from '../src/cli/main.js';
import { createSwapClient, type StoredLogin, tokenSetFromResponse } from '../src/client/index.js';
import { createFileStore } from '../src/client/node/index.js';
import { memoryIo } from './helpers/cli-io.js';
import { ageLogin } from './helpers/sandbox-control.js';
import { authorize, CLIENT_ID, type Stack, startStack, UNSEALED } from './helpers/stack.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

describe('how the CLI says a login ends', () => {
  it('by its local calendar date, with the time left rounded down', () => {
    expect(calendarDate(new Date(2026, 6, 1, 23, 59).getTime())).toBe('2026-07-01');
    expect(calendarDate(new Date(2026, 0, 9, 0, 0).getTime())).toBe('2026-01-09');
    expect(timeLeft(172 * DAY + 23 * 60 * MINUTE)).toBe('172 days left');
    expect(timeLeft(2 * DAY)).toBe('2 days left');
    expect(timeLeft(2 * DAY - 1)).toBe('1 day left');
    expect(timeLeft(DAY - 1)).toBe('23 h left');
    expect(timeLeft(59 * MINUTE)).toBe('59 min left');
    expect(timeLeft(1_000)).toBe('1 min left');
    const end = new Date(2026, 6, 1, 12).getTime();
    expect(describeLoginEnd(end, end - 10 * DAY)).toBe('sign-in needed by 2026-07-01 (10 days left)');
    expect(describeLoginEnd(end, end)).toBe('the login ended on 2026-07-01');
  });
});

describe('token-swap status, token and refresh near the end of a login', () => {
  let stack: Stack;
  let unsealed: Stack;
  beforeAll(async () => {
    [stack, unsealed] = await Promise.all([startStack(), startStack({ env: UNSEALED })]);
  });
  afterAll(() => Promise.all([stack.close(), unsealed.close()]));

  /** A real login through `on`, stored with the kit's file store; `endsIn` moves its end (ms from now). */
  async function storedLogin(on: Stack, endsIn?: number): Promise<{ store: string; login: StoredLogin }> {
    const { code } = await authorize(on.accounts.url);
    const tokens = tokenSetFromResponse(await createSwapClient({ swapUrl: on.service.url }).swap(code));
    if (endsIn !== undefined) tokens.refreshTokenExpiresAt = Date.now() + endsIn;
    const login: StoredLogin = {
      swapUrl: on.service.url,
      clientId: CLIENT_ID,
      apiUrl: on.accounts.url,
      tokens,
    };
    const store = join(mkdtempSync(join(tmpdir(), 'cli-login-end-')), 'tokens.json');
    await createFileStore(store).save(login);
    return { store, login };
  }

  async function run(args: string[]) {
    const io = memoryIo();
    const code = await runCli(args, io);
    return { code, out: io.out(), err: io.err() };
  }

  const hint = (on: Stack, store: string) =>
    `token-swap login --swap-url ${on.service.url} --client-id ${CLIENT_ID} --store ${store}`;

  it('status shows by when to sign in again, and warns on stderr in the last 14 days; exit 0', async () => {
    // A few minutes over ten days, so that "10 days left" holds for the whole test.
    const { store, login } = await storedLogin(stack, 10 * DAY + 5 * MINUTE);
    const end = login.tokens.refreshTokenExpiresAt ?? 0;
    const status = await run(['status', '--store', store]);
    expect(status.code).toBe(0);
    expect(status.out).toContain('Logged in as Sandbox User');
    expect(status.out).toContain(
      `  Refresh token: stored; sign-in needed by ${calendarDate(end)} (10 days left)\n`,
    );
    expect(status.err).toBe(
      `Warning: sign-in needed by ${calendarDate(end)} (10 days left): the login ends then, however often it is refreshed. Run \`${hint(stack, store)}\` before then.\n`,
    );
  });

  it('status says the date without a warning while the end is further off, and nothing of it when unknown', async () => {
    const far = await storedLogin(stack);
    const end = (await createFileStore(far.store).load())?.tokens.refreshTokenExpiresAt ?? 0;
    expect(end).toBeGreaterThan(Date.now() + 180 * DAY);
    const status = await run(['status', '--store', far.store]);
    expect([status.code, status.err]).toEqual([0, '']);
    expect(status.out).toMatch(
      new RegExp(`  Refresh token: stored; sign-in needed by ${calendarDate(end)} \\(18\\d days left\\)\n`),
    );

    // As an older kit stored it: no end known.
    const { refreshTokenExpiresAt: _, ...tokens } = far.login.tokens;
    await createFileStore(far.store).save({ ...far.login, tokens });
    const old = await run(['status', '--store', far.store]);
    expect([old.code, old.err]).toEqual([0, '']);
    expect(old.out).toContain('  Refresh token: stored\n');
  });

  it('token prints the token alone on stdout and warns on stderr only', async () => {
    const { store, login } = await storedLogin(stack, 3 * DAY + 5 * MINUTE);
    const token = await run(['token', '--store', store]);
    expect(token.code).toBe(0);
    expect(token.out).toBe(`${login.tokens.accessToken}\n`);
    expect(token.err).toMatch(/^Warning: sign-in needed by \d{4}-\d{2}-\d{2} \(3 days left\): /);
    expect(token.err).toContain(`Run \`${hint(stack, store)}\` before then.`);

    const quiet = await storedLogin(stack, 15 * DAY);
    expect(await run(['token', '--store', quiet.store])).toEqual({
      code: 0,
      out: `${quiet.login.tokens.accessToken}\n`,
      err: '',
    });
  });

  it('token still prints a valid access token of an ended login, and says the next refresh will fail', async () => {
    const { store, login } = await storedLogin(stack, -DAY);
    const token = await run(['token', '--store', store]);
    expect(token.code).toBe(0);
    expect(token.out).toBe(`${login.tokens.accessToken}\n`);
    expect(token.err).toBe(
      `Warning: the login ended on ${calendarDate(login.tokens.refreshTokenExpiresAt ?? 0)}, so the next refresh will fail. Run \`${hint(stack, store)}\` to log in again.\n`,
    );
  });

  it('refresh warns too, with the end kept from the swap when the refresh does not say it', async () => {
    // Unsealed, the service knows the login's start at the swap only: its refreshes do not say the end.
    const { store } = await storedLogin(unsealed, 5 * DAY + 5 * MINUTE);
    const refresh = await run(['refresh', '--store', store]);
    expect(refresh.code).toBe(0);
    expect(refresh.out).toMatch(/^Refreshed\. Access token valid until .+\.\n$/);
    expect(refresh.err).toMatch(/^Warning: sign-in needed by \d{4}-\d{2}-\d{2} \(5 days left\): /);
  });

  it('an ended login refused through the service is exit 3 with its sentence and the login command', async () => {
    const { store, login } = await storedLogin(stack);
    await createFileStore(store).save({ ...login, tokens: { ...login.tokens, expiresAt: 0 } });
    await ageLogin(stack.accounts.url, login.tokens.accessToken, 185 * 86_400);
    const token = await run(['token', '--store', store]);
    expect([token.code, token.out]).toEqual([3, '']);
    expect(token.err).toMatch(
      /^token-swap: The login expired on \d{4}-\d{2}-\d{2}: the user must sign in again\. Run `token-swap login --swap-url \S+ --client-id \S+ --store \S+` to log in again\.\n$/,
    );
  });

  it('status says a spent Web API quota as such, not as a bare 429', async () => {
    const { store } = await storedLogin(stack);
    stack.sandbox.faults.push({
      kind: 'rate-limit',
      retryAfter: 30,
      reason: 'QUOTA_EXCEEDED',
      target: 'web-api',
    });
    const status = await run(['status', '--store', store]);
    expect(status.code).toBe(0);
    expect(status.out).toContain('Logged in as a Spotify user (profile unavailable).');
    expect(status.err).toBe(
      "Warning: GET /v1/me: Spotify's quota for this app is spent (QUOTA_EXCEEDED); try again in 30 s.\n",
    );
  });
});
