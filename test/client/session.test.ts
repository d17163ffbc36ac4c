import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryStore,
  createSession,
  createSwapClient,
  LoginRequiredError,
  type StoredLogin,
  type TokenStore,
  tokenSetFromResponse,
} from '../../src/client/index.js';
import { createFileStore } from '../../src/client/node/index.js';
import { injectFault } from '../helpers/sandbox-control.js';
import { authorize, type Stack, startStack } from '../helpers/stack.js';

const stacks: Stack[] = [];
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((s) => s.close()));
});

/** A logged-in store whose access token already expired. */
async function loggedIn(options: Parameters<typeof startStack>[0], store: TokenStore = createMemoryStore()) {
  const stack = await startStack(options);
  stacks.push(stack);
  const client = createSwapClient({ swapUrl: stack.service.url });
  const { code } = await authorize(stack.accounts.url);
  const tokens = tokenSetFromResponse(await client.swap(code), Date.now() - 3_600_000);
  const login: StoredLogin = { swapUrl: stack.service.url, clientId: 'c', tokens };
  await store.save(login);
  return { stack, store, login };
}

const refreshCalls = (stack: Stack) => stack.sandbox.stats().byGrant.refresh_token;

describe('session', () => {
  it('hands out the stored token while it is valid, without calling anybody', async () => {
    const { stack, store, login } = await loggedIn({});
    await store.save({ ...login, tokens: { ...login.tokens, expiresAt: Date.now() + 600_000 } });
    const session = createSession({ store });
    expect(await session.getAccessToken()).toBe(login.tokens.accessToken);
    expect(refreshCalls(stack)).toBe(0);
  });

  it('refreshes ahead of expiry, inside the skew', async () => {
    const { stack, store, login } = await loggedIn({});
    await store.save({ ...login, tokens: { ...login.tokens, expiresAt: Date.now() + 30_000 } });
    const token = await createSession({ store }).getAccessToken();
    expect(token).not.toBe(login.tokens.accessToken);
    expect(refreshCalls(stack)).toBe(1);
  });

  it('runs one refresh for 50 concurrent callers (single flight) and keeps the refresh token', async () => {
    const { stack, store, login } = await loggedIn({});
    const sessions = [createSession({ store }), createSession({ store })];
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => sessions[i % 2]?.getAccessToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(refreshCalls(stack)).toBe(1);
    const saved = await store.load();
    expect(saved?.tokens.refreshToken).toBe(login.tokens.refreshToken);
    expect(saved?.tokens.accessToken).toBe(tokens[0]);
  });

  it("ends only the aborting caller's wait: the others of a shared refresh still get their token", async () => {
    const { stack, store, login } = await loggedIn({});
    await injectFault(stack.accounts.url, { kind: 'slow', delayMs: 200 });
    const session = createSession({ store });
    const controller = new AbortController();
    const first = session.getAccessToken({ signal: controller.signal });
    const second = session.getAccessToken();
    controller.abort();
    await expect(first).rejects.toMatchObject({ name: 'SwapServiceUnreachableError', code: 'aborted' });
    const token = await second;
    expect(token).not.toBe(login.tokens.accessToken);
    expect(refreshCalls(stack)).toBe(1);
    // The refresh the aborted caller started was not lost: the store has its answer.
    expect((await store.load())?.tokens.accessToken).toBe(token);
  });

  it('saves a rotated refresh token, so the next refresh uses it', async () => {
    const { stack, store, login } = await loggedIn({ sandbox: { rotateRefreshTokens: true } });
    const session = createSession({ store });
    const first = await session.refresh();
    expect(first.refreshToken).not.toBe(login.tokens.refreshToken);
    expect((await store.load())?.tokens.refreshToken).toBe(first.refreshToken);
    const second = await session.refresh();
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(refreshCalls(stack)).toBe(2);
  });

  it('coordinates processes through the store lock: two stores on one file, rotation on, one refresh', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'session-')), 'tokens.json');
    const { stack } = await loggedIn({ sandbox: { rotateRefreshTokens: true } }, createFileStore(path));
    // Separate store objects, as two processes would have: in-process single flight cannot help here.
    const results = await Promise.all(
      Array.from({ length: 6 }, () => createSession({ store: createFileStore(path) }).getAccessToken()),
    );
    expect(new Set(results).size).toBe(1);
    expect(refreshCalls(stack)).toBe(1);
  });

  it('on invalid_grant forgets the login and says a new login is needed', async () => {
    const { store, login } = await loggedIn({});
    await store.save({ ...login, tokens: { ...login.tokens, refreshToken: 'AQrevoked-or-expired' } });
    const session = createSession({ store });
    const error = await session.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoginRequiredError);
    expect((error as LoginRequiredError).code).toBe('refresh_token_rejected');
    expect((error as LoginRequiredError).message).toContain('Invalid refresh token');
    expect(await store.load()).toBeUndefined();
  });

  it('keeps the login on a transient failure (service down), so a later try can succeed', async () => {
    const { store, stack } = await loggedIn({});
    await stack.service.close();
    const error = await createSession({ store })
      .getAccessToken()
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe('SwapServiceUnreachableError');
    expect(await store.load()).toBeDefined();
  });

  it('says not logged in for an empty store', async () => {
    const error = await createSession({ store: createMemoryStore() })
      .getAccessToken()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'LoginRequiredError', code: 'not_logged_in' });
  });
});
