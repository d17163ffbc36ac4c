/**
 * A 429 from Spotify Accounts with the Web API's `reason` (docs/spotify-accounts.md §6, "Quotas and
 * Development Mode"): the client gets the usual `rate_limited` answer with its Retry-After, and the
 * description says the reason, a spent quota in words of its own. Against the sandbox's fault.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectFault } from './helpers/sandbox-control.js';
import { authorize, REDIRECT_URI, type Stack, startStack } from './helpers/stack.js';
import { login } from './helpers/tokens.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

async function answer(path: string, form: Record<string, string>) {
  const response = await fetch(`${stack.service.url}${path}`, {
    method: 'POST',
    body: new URLSearchParams(form),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: await response.json(),
  };
}

describe("Spotify's 429 with a reason", () => {
  it('QUOTA_EXCEEDED on a swap and a refresh: 429 rate_limited saying the quota is spent', async () => {
    const { refreshToken } = await login(stack);
    const { code } = await authorize(stack.accounts.url);
    const expected = {
      status: 429,
      retryAfter: '30',
      body: {
        error: 'rate_limited',
        error_description: "Spotify's quota for this app is spent (QUOTA_EXCEEDED); retry after 30 seconds",
      },
    };
    await injectFault(stack.accounts.url, { kind: 'rate-limit', retryAfter: 30, reason: 'QUOTA_EXCEEDED' });
    expect(await answer('/swap', { code, redirect_uri: REDIRECT_URI })).toEqual(expected);
    await injectFault(stack.accounts.url, { kind: 'rate-limit', retryAfter: 30, reason: 'QUOTA_EXCEEDED' });
    expect(await answer('/refresh', { refresh_token: refreshToken })).toEqual(expected);
  });

  it('another reason is named; none, and the sentence is the one it always was', async () => {
    const { refreshToken } = await login(stack);
    await injectFault(stack.accounts.url, [
      { kind: 'rate-limit', retryAfter: 5, reason: 'SOME_NEW_REASON' },
      { kind: 'rate-limit', retryAfter: 5 },
    ]);
    expect((await answer('/refresh', { refresh_token: refreshToken })).body.error_description).toBe(
      'Spotify rate limit reached (SOME_NEW_REASON); retry after 5 seconds',
    );
    expect((await answer('/refresh', { refresh_token: refreshToken })).body.error_description).toBe(
      'Spotify rate limit reached; retry after 5 seconds',
    );
  });
});
