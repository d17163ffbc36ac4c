/**
 * `token-swap logout` revokes at the service before it forgets the login, and forgets it whatever the
 * revocation came to: run in-process against the real service and the sandbox (with its login store,
 * without one, and stopped), with the login stored by the kit's file store. (After a login by the CLI
 * itself, with the bytes it sends: test/clients/cli.test.ts.)
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { createSwapClient, type StoredLogin, tokenSetFromResponse } from '../src/client/index.js';
import { createFileStore } from '../src/client/node/index.js';
import { memoryIo } from './helpers/cli-io.js';
import { authorize, CLIENT_ID, postForm, startStack } from './helpers/stack.js';
import { type StorelessService, startStorelessService } from './helpers/storeless-service.js';

const SPOTIFY_APPS = 'https://www.spotify.com/account/apps/';

/** A real login at `swapUrl`, stored where `token-swap --store` finds it. */
async function storedLogin(swapUrl: string, accountsUrl: string) {
  const { code } = await authorize(accountsUrl);
  const tokens = tokenSetFromResponse(await createSwapClient({ swapUrl }).swap(code));
  const login: StoredLogin = { swapUrl, clientId: CLIENT_ID, apiUrl: accountsUrl, tokens };
  const store = join(mkdtempSync(join(tmpdir(), 'cli-logout-')), 'tokens.json');
  await createFileStore(store).save(login);
  return { store, refreshToken: tokens.refreshToken ?? '', accessToken: tokens.accessToken };
}

async function logout(store: string) {
  const io = memoryIo();
  const code = await runCli(['logout', '--store', store], io);
  return { code, out: io.out(), err: io.err() };
}

function expectNoToken(output: { out: string; err: string }, tokens: string[]) {
  for (const token of tokens) {
    expect(token.length).toBeGreaterThan(10);
    expect(output.out).not.toContain(token);
    expect(output.err).not.toContain(token);
  }
}

const loggedOut = (store: string) =>
  `Logged out: removed ${store}.\nTo revoke the app's access too, remove it at ${SPOTIFY_APPS}\n`;

describe('token-swap logout', () => {
  it('revokes at the service, so the stored refresh token refreshes no more; exit 0', async () => {
    const stack = await startStack();
    try {
      const login = await storedLogin(stack.service.url, stack.accounts.url);
      const result = await logout(login.store);
      expect(result).toEqual({
        code: 0,
        out: loggedOut(login.store),
        err: `Revoked the login at the swap service at ${stack.service.url}: none of its refresh tokens works any more.\n`,
      });
      expect(existsSync(login.store)).toBe(false);
      // The store's lock, held while it revoked, is released.
      expect(existsSync(`${login.store}.lock`)).toBe(false);
      expectNoToken(result, [login.refreshToken, login.accessToken]);
      const refresh = await postForm(`${stack.service.url}/refresh`, { refresh_token: login.refreshToken });
      expect([refresh.status, ((await refresh.json()) as { error: string }).error]).toEqual([
        400,
        'invalid_grant',
      ]);
    } finally {
      await stack.close();
    }
  });

  it('with the service down, forgets the tokens all the same and says they still work (stderr); exit 0', async () => {
    const stack = await startStack();
    const login = await storedLogin(stack.service.url, stack.accounts.url);
    await stack.close();
    const result = await logout(login.store);
    expect(result.code).toBe(0);
    expect(existsSync(login.store)).toBe(false);
    expect(result.out).toBe(loggedOut(login.store));
    expect(result.err).toBe(
      `Warning: could not reach the swap service at ${stack.service.url} (unreachable), so the login was not revoked: its tokens are forgotten here, but still work until they expire. To end them now, remove the app at ${SPOTIFY_APPS}\n`,
    );
    expectNoToken(result, [login.refreshToken, login.accessToken]);
  });

  describe('against a service that keeps no revocations', () => {
    let service: StorelessService;
    beforeAll(async () => {
      service = await startStorelessService();
    });
    afterAll(() => service.close());

    it('forgets the tokens and says the service keeps no revocations (stderr); exit 0', async () => {
      const login = await storedLogin(service.url, service.accountsUrl);
      const result = await logout(login.store);
      expect(result.code).toBe(0);
      expect(existsSync(login.store)).toBe(false);
      expect(result.out).toBe(loggedOut(login.store));
      expect(result.err).toBe(
        `Warning: the swap service at ${service.url} keeps no revocations (revocation_unavailable), so the login was not revoked: its tokens are forgotten here, but still work until they expire.\n`,
      );
      expectNoToken(result, [login.refreshToken, login.accessToken]);
      // As it said: the refresh token still works.
      const refresh = await postForm(`${service.url}/refresh`, { refresh_token: login.refreshToken });
      expect(refresh.status).toBe(200);
    });
  });

  it('removes a login file it cannot read, saying that nothing was revoked; exit 0', async () => {
    const store = join(mkdtempSync(join(tmpdir(), 'cli-logout-')), 'tokens.json');
    writeFileSync(store, '{"not": "a login"}');
    const result = await logout(store);
    expect(result).toEqual({
      code: 0,
      out: loggedOut(store),
      err: 'Warning: the stored login could not be read, so it was not revoked; it was removed all the same.\n',
    });
    expect(existsSync(store)).toBe(false);
  });

  it('with nothing stored, says so and revokes nothing', async () => {
    const store = join(mkdtempSync(join(tmpdir(), 'cli-logout-')), 'tokens.json');
    expect(await logout(store)).toEqual({ code: 0, out: 'Not logged in; nothing to remove.\n', err: '' });
  });
});
