/**
 * `POST /revoke` (RFC 7009, issue 13): a revoked login refreshes no more, with any of its tokens, and
 * Spotify is not called for it; the answer is the same `200 {}` for every well-formed request. The
 * store is the process's memory here; test/login-store-redis.test.ts has replicas and restarts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/server/app.js';
import { ConfigError, loadConfig } from '../src/server/config/index.js';
import { metric } from './helpers/metrics.js';
import { tokenCalls } from './helpers/sandbox-control.js';
import { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, type Stack, startStack } from './helpers/stack.js';
import { login, refresh, revoke } from './helpers/tokens.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    env: { CORS_ORIGINS: 'https://app.example.com' },
    configFile: {
      apps: {
        second: {
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          redirectUris: [REDIRECT_URI],
          encryptionSecrets: ['sealing-secret-of-the-second-app-0123456789'],
        },
      },
    },
  });
});
afterAll(() => stack.close());

describe('POST /revoke', () => {
  it('revokes the login: its token gets invalid_grant without a call to Spotify', async () => {
    const { refreshToken } = await login(stack);
    expect(await revoke(stack, refreshToken)).toEqual({ status: 200, body: {} });
    const calls = await tokenCalls(stack.accounts.url);
    expect(await refresh(stack, refreshToken)).toEqual({
      status: 400,
      body: {
        error: 'invalid_grant',
        error_description: 'The login was revoked: the user must sign in again',
      },
    });
    expect(await tokenCalls(stack.accounts.url)).toBe(calls);
    expect(await metric(stack, 'token_swap_refresh_refused_total', { reason: 'revoked' })).toBeGreaterThan(0);
  });

  it('revokes that login only: another login of the same user and app refreshes on', async () => {
    // The family of a rotating login (all its generations) is test/rotation.test.ts's.
    const { refreshToken } = await login(stack);
    const other = await login(stack);
    await revoke(stack, refreshToken);
    expect((await refresh(stack, refreshToken)).status).toBe(400);
    expect((await refresh(stack, other.refreshToken)).status).toBe(200);
  });

  it('answers 200 {} for an unknown, malformed, already revoked or other app token, telling a prober nothing', async () => {
    const { refreshToken } = await login(stack);
    await revoke(stack, refreshToken);
    for (const token of [
      refreshToken,
      'sts2.never-issued',
      'AQD-spotify-own-token',
      refreshToken.slice(0, -4),
    ]) {
      expect(await revoke(stack, token), token.slice(0, 12)).toEqual({ status: 200, body: {} });
    }
    // A token of the default app presented to another app is not that app's: nothing is revoked.
    const mine = await login(stack);
    expect(await revoke(stack, mine.refreshToken, '/apps/second')).toEqual({ status: 200, body: {} });
    expect((await refresh(stack, mine.refreshToken)).status).toBe(200);
    expect(await metric(stack, 'token_swap_revocations_total', { outcome: 'unknown' })).toBeGreaterThan(0);
  });

  it('takes JSON and token_type_hint, per app under /apps/{name}/revoke', async () => {
    const second = await login(stack, '/apps/second');
    const response = await fetch(`${stack.service.url}/apps/second/revoke`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token: second.refreshToken, token_type_hint: 'access_token' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});
    expect((await refresh(stack, second.refreshToken, '/apps/second')).body.error).toBe('invalid_grant');
  });

  it('refuses a request without a token as any token endpoint does: 400 invalid_request', async () => {
    const response = await fetch(`${stack.service.url}/revoke`, {
      method: 'POST',
      body: new URLSearchParams(),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
    const get = await fetch(`${stack.service.url}/revoke`);
    expect(get.status).toBe(405);
    expect(await get.json()).toMatchObject({ error: 'method_not_allowed' });
  });

  it('answers a CORS preflight from an allowed origin like the token endpoints', async () => {
    const preflight = (path: string) =>
      fetch(`${stack.service.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://app.example.com',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type',
        },
      });
    const [revoked, refreshed] = await Promise.all([preflight('/revoke'), preflight('/refresh')]);
    expect(revoked.status).toBe(refreshed.status);
    for (const header of [
      'access-control-allow-origin',
      'access-control-allow-methods',
      'access-control-max-age',
    ]) {
      expect(revoked.headers.get(header), header).toBe(refreshed.headers.get(header));
    }
    expect(revoked.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
  });
});

describe('without a login store', () => {
  const config = () =>
    loadConfig({
      SPOTIFY_CLIENT_ID: CLIENT_ID,
      SPOTIFY_CLIENT_SECRET: CLIENT_SECRET,
      SPOTIFY_REDIRECT_URI: REDIRECT_URI,
      ENCRYPTION_SECRET: 'sealing-secret-a-0123456789-abcdefghijklmnop',
    });

  it('answers /revoke 501 revocation_unavailable rather than pretending', async () => {
    const app = createApp(config());
    const response = await app.request('/revoke', {
      method: 'POST',
      body: new URLSearchParams({ token: 'sts2.x' }),
    });
    expect(response.status).toBe(501);
    expect(await response.json()).toEqual({
      error: 'revocation_unavailable',
      error_description: expect.stringMatching(/revocations/i),
    });
  });

  it('refuses to start an app with rotation, naming the variable', () => {
    const rotating = { ...config() };
    rotating.apps = rotating.apps.map((app) => ({
      ...app,
      refreshTokens: { ...app.refreshTokens, rotation: true },
    }));
    expect(() => createApp(rotating)).toThrow(ConfigError);
    expect(() => createApp(rotating)).toThrow(/REFRESH_TOKEN_ROTATION/);
  });
});
