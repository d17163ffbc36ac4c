/**
 * The login's end, as the kit makes it visible: the token set knows it from the swap service's
 * answers, the session tells the app ahead of time (on an injected clock) and says `expired` when the
 * service refuses an ended login. Against the real service and the sandbox over sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryStore,
  createSession,
  createSwapClient,
  LoginRequiredError,
  type SignInNotice,
  type StoredLogin,
  tokenSetFromResponse,
} from '../../src/client/index.js';
import { ageLogin } from '../helpers/sandbox-control.js';
import { authorize, type Stack, startStack } from '../helpers/stack.js';

const DAY = 86_400_000;
const stacks: Stack[] = [];
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((stack) => stack.close()));
});

/** A login through the real service: what the swap answered, and when it arrived. */
async function swapped() {
  const stack = await startStack();
  stacks.push(stack);
  const client = createSwapClient({ swapUrl: stack.service.url });
  const { code } = await authorize(stack.accounts.url);
  const answer = await client.swap(code);
  const receivedAt = Date.now();
  return { stack, answer, tokens: tokenSetFromResponse(answer, receivedAt), receivedAt };
}

describe("the login's end in the token set", () => {
  it('comes from the swap and from each refresh through the service, and is stored', async () => {
    const { stack, answer, tokens, receivedAt } = await swapped();
    // Six calendar months: 181 to 184 days.
    expect(answer.refresh_token_expires_in).toBeGreaterThanOrEqual(181 * 86_400 - 60);
    expect(answer.refresh_token_expires_in).toBeLessThanOrEqual(184 * 86_400);
    expect(tokens.refreshTokenExpiresAt).toBe(receivedAt + (answer.refresh_token_expires_in ?? 0) * 1000);

    const store = createMemoryStore({ swapUrl: stack.service.url, tokens: { ...tokens, expiresAt: 0 } });
    const refreshed = await createSession({ store }).getTokens();
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    // The same end, told again in whole seconds from a later moment.
    expect(
      Math.abs((refreshed.refreshTokenExpiresAt ?? 0) - (tokens.refreshTokenExpiresAt ?? 0)),
    ).toBeLessThan(2_000);
    expect((await store.load())?.tokens.refreshTokenExpiresAt).toBe(refreshed.refreshTokenExpiresAt);
  });
});

describe('the session tells the app a sign-in will be needed', () => {
  /** A stored login ending at `end`, with an access token that needs no refresh on the test's clock. */
  function endingAt(end: number): StoredLogin {
    return {
      swapUrl: 'http://127.0.0.1:9',
      tokens: {
        accessToken: 'BQvalid',
        tokenType: 'Bearer',
        scopes: [],
        expiresAt: end + 400 * DAY,
        refreshToken: 'sts2.x',
        refreshTokenExpiresAt: end,
      },
    };
  }

  it('once in the last 14 days, once at the end, and anew for the next login', async () => {
    const end = Date.UTC(2026, 6, 1);
    let clock = end - 15 * DAY;
    const store = createMemoryStore(endingAt(end));
    const notices: SignInNotice[] = [];
    const session = createSession({ store, now: () => clock, onSignInNeeded: (n) => notices.push(n) });
    expect(await session.signInNeededBy()).toBe(end);

    await session.getAccessToken();
    expect(notices).toEqual([]);
    clock = end - 14 * DAY;
    await session.getAccessToken();
    await session.getAccessToken();
    clock = end - 1;
    await session.getTokens();
    expect(notices).toEqual([{ kind: 'soon', endsAt: end }]);
    clock = end;
    await session.getAccessToken();
    await session.getAccessToken();
    expect(notices).toEqual([
      { kind: 'soon', endsAt: end },
      { kind: 'ended', endsAt: end },
    ]);

    // The user signed in again: a new login, six months on.
    const next = end + 182 * DAY;
    await store.save(endingAt(next));
    await session.getAccessToken();
    expect(notices).toHaveLength(2);
    clock = next - 3 * DAY;
    await session.getAccessToken();
    expect(notices.at(-1)).toEqual({ kind: 'soon', endsAt: next });
    expect(await session.signInNeededBy()).toBe(next);
  });

  it('takes the warning period in days, and refuses a negative one', async () => {
    const end = Date.UTC(2026, 6, 1);
    const notices: SignInNotice[] = [];
    const session = createSession({
      store: createMemoryStore(endingAt(end)),
      now: () => end - 20 * DAY,
      signInWarningDays: 30,
      onSignInNeeded: (n) => notices.push(n),
    });
    await session.getAccessToken();
    expect(notices).toEqual([{ kind: 'soon', endsAt: end }]);
    expect(() => createSession({ store: createMemoryStore(), signInWarningDays: -1 })).toThrow(TypeError);
  });

  it('says nothing and knows no date for a login whose end the service never said', async () => {
    const { refreshTokenExpiresAt: _, ...tokens } = endingAt(Date.now()).tokens;
    const notices: SignInNotice[] = [];
    const session = createSession({
      store: createMemoryStore({ swapUrl: 'http://127.0.0.1:9', tokens }),
      onSignInNeeded: (n) => notices.push(n),
    });
    await session.getAccessToken();
    expect(await session.signInNeededBy()).toBeUndefined();
    expect(await createSession({ store: createMemoryStore() }).signInNeededBy()).toBeUndefined();
    expect(notices).toEqual([]);
  });

  it('fails the call that noticed with what the callback threw', async () => {
    const end = Date.UTC(2026, 6, 1);
    const session = createSession({
      store: createMemoryStore(endingAt(end)),
      now: () => end,
      onSignInNeeded: () => {
        throw new Error('the app broke');
      },
    });
    await expect(session.getAccessToken()).rejects.toThrow('the app broke');
  });
});

describe('a login that ended at Spotify, refreshed through the service', () => {
  it('is LoginRequiredError `expired` with the service’s sentence, forgotten, and told as ended', async () => {
    const { stack, tokens } = await swapped();
    const store = createMemoryStore({ swapUrl: stack.service.url, tokens: { ...tokens, expiresAt: 0 } });
    // The user agreed 185 days ago, as far as Spotify (the sandbox) knows; the sealed token says today.
    await ageLogin(stack.accounts.url, tokens.accessToken, 185 * 86_400);
    const notices: SignInNotice[] = [];
    const session = createSession({ store, onSignInNeeded: (n) => notices.push(n) });
    const error = await session.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoginRequiredError);
    expect((error as LoginRequiredError).code).toBe('expired');
    expect((error as LoginRequiredError).message).toMatch(
      /^The login expired on \d{4}-\d{2}-\d{2}: the user must sign in again$/,
    );
    expect(await store.load()).toBeUndefined();
    expect(notices).toEqual([{ kind: 'ended', endsAt: tokens.refreshTokenExpiresAt }]);
  });

  it('stays `refresh_token_rejected` for a token refused for another reason', async () => {
    const { stack, tokens } = await swapped();
    const store = createMemoryStore({
      swapUrl: stack.service.url,
      tokens: { ...tokens, expiresAt: 0, refreshToken: 'sts2.not-a-sealed-token' },
    });
    const error = await createSession({ store })
      .refresh()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'LoginRequiredError', code: 'refresh_token_rejected' });
  });
});
