import { describe, expect, it } from 'vitest';
import { SEALED_PREFIX } from '../src/server/sealing/index.js';
import { tokenCalls } from './helpers/sandbox-control.js';
import {
  authorize,
  postForm,
  SECRET_A,
  SECRET_B,
  type Stack,
  stacksClosedAfterEach,
} from './helpers/stack.js';
import { withSecondToLastFlipped } from './helpers/tampered.js';

const start = stacksClosedAfterEach();

interface Tokens {
  access_token: string;
  refresh_token?: string;
}

async function swap(stack: Stack): Promise<Tokens> {
  const { code } = await authorize(stack.accounts.url);
  const response = await postForm(`${stack.service.url}/swap`, { code });
  expect(response.status).toBe(200);
  return (await response.json()) as Tokens;
}

function refresh(stack: Stack, refreshToken: string) {
  return postForm(`${stack.service.url}/refresh`, { refresh_token: refreshToken });
}

describe('refresh-token sealing through the service', () => {
  it('hands out a sealed refresh token and refreshes with it', async () => {
    const stack = await start({ env: { ENCRYPTION_SECRET: SECRET_A } });
    const tokens = await swap(stack);
    expect(tokens.refresh_token?.startsWith(SEALED_PREFIX)).toBe(true);
    const response = await refresh(stack, tokens.refresh_token ?? '');
    expect(response.status).toBe(200);
    expect(await response.json()).not.toHaveProperty('refresh_token');
  });

  it('works when a client forgets to URL-encode the sealed token in a form body', async () => {
    const stack = await start({ env: { ENCRYPTION_SECRET: SECRET_A } });
    const tokens = await swap(stack);
    const response = await fetch(`${stack.service.url}/refresh`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `refresh_token=${tokens.refresh_token}`,
    });
    expect(response.status).toBe(200);
  });

  it('seals the rotated refresh token too, so the next refresh works (bih#rotation bug)', async () => {
    const stack = await start({
      env: { ENCRYPTION_SECRET: SECRET_A },
      sandbox: { rotateRefreshTokens: true },
    });
    const first = await swap(stack);
    const second = (await (await refresh(stack, first.refresh_token ?? '')).json()) as Tokens;
    expect(second.refresh_token?.startsWith(SEALED_PREFIX)).toBe(true);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    const third = await refresh(stack, second.refresh_token ?? '');
    expect(third.status).toBe(200);
    // The rotated-away token is revoked upstream, and Spotify's answer passes through.
    const stale = await refresh(stack, first.refresh_token ?? '');
    expect(stale.status).toBe(400);
    expect(await stale.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Refresh token revoked',
    });
  });

  it('keeps old tokens working across a key rotation (new secret first, old one after)', async () => {
    const before = await start({ env: { ENCRYPTION_SECRET: SECRET_A } });
    const tokens = await swap(before);
    const after = await start({
      env: { ENCRYPTION_SECRET: `${SECRET_B},${SECRET_A}` },
      accounts: { sandbox: before.sandbox, listening: before.accounts },
    });
    expect((await refresh(after, tokens.refresh_token ?? '')).status).toBe(200);
    const fresh = await swap(after);
    // Sealed with the new secret: a deployment that only knows the old one refuses it.
    const oldOnly = await refresh(before, fresh.refresh_token ?? '');
    expect(oldOnly.status).toBe(400);
  });

  it('refuses tampered, truncated, foreign and unsealed tokens without calling Spotify', async () => {
    const stack = await start({ env: { ENCRYPTION_SECRET: SECRET_A } });
    const foreignStack = await start({
      env: { ENCRYPTION_SECRET: SECRET_B },
      accounts: { sandbox: stack.sandbox, listening: stack.accounts },
    });
    const sealed = (await swap(stack)).refresh_token ?? '';
    const foreign = (await swap(foreignStack)).refresh_token ?? '';
    const tampered = withSecondToLastFlipped(sealed);
    const unsealed = 'AQ'.padEnd(130, 'x');

    for (const bad of [tampered, sealed.slice(0, -4), foreign, unsealed, `${SEALED_PREFIX}AAAA`]) {
      const calls = await tokenCalls(stack.accounts.url);
      const response = await refresh(stack, bad);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: 'invalid_grant',
        error_description: 'Invalid refresh token',
      });
      expect(await tokenCalls(stack.accounts.url)).toBe(calls);
    }
  });

  it('passes tokens through unchanged with ENCRYPTION_SECRET=none', async () => {
    const stack = await start({ env: { ENCRYPTION_SECRET: 'none' } });
    const tokens = await swap(stack);
    expect(tokens.refresh_token).toMatch(/^AQ/);
    expect((await refresh(stack, tokens.refresh_token ?? '')).status).toBe(200);
  });
});
