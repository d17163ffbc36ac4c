/**
 * The kit's sign-out: `revoke()` on the swap client and `logout()` on the session, over real sockets
 * against the service and the sandbox (with its login store, and without one), a closed port, and
 * `processRevokeResponse` on hand-built answers.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMemoryStore,
  createSession,
  createSwapClient,
  LoginRequiredError,
  processRevokeResponse,
  type StoredLogin,
  SwapServiceError,
  SwapServiceUnreachableError,
} from '../../src/client/index.js';
import { injectFault } from '../helpers/sandbox-control.js';
import {
  authorize,
  CLIENT_ID,
  CLIENT_SECRET,
  postForm,
  REDIRECT_URI,
  SECRET_B,
  type Stack,
  startStack,
} from '../helpers/stack.js';
import { type StorelessService, startStorelessService } from '../helpers/storeless-service.js';

async function closedPortUrl(): Promise<string> {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** A fresh login at `swapUrl`: its sealed refresh token. */
async function signIn(swapUrl: string, accountsUrl: string): Promise<string> {
  const { code } = await authorize(accountsUrl);
  const tokens = await createSwapClient({ swapUrl }).swap(code);
  if (!tokens.refresh_token) throw new Error('the swap answered no refresh token');
  return tokens.refresh_token;
}

/** A stored login whose access token already expired, so the session's next call refreshes. */
function expiredLogin(swapUrl: string, refreshToken: string): StoredLogin {
  return {
    swapUrl,
    tokens: {
      accessToken: 'BQexpired',
      tokenType: 'Bearer',
      scopes: [],
      expiresAt: Date.now() - 1_000,
      refreshToken,
    },
  };
}

const refreshCalls = (stack: Stack) => stack.sandbox.stats().byGrant.refresh_token;

describe('revoke() against the service with its login store', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      configFile: {
        apps: {
          web: {
            clientId: CLIENT_ID,
            clientSecret: CLIENT_SECRET,
            redirectUris: [REDIRECT_URI],
            encryptionSecrets: [SECRET_B],
          },
        },
      },
    });
  });
  afterAll(() => stack.close());

  it('revokes, and the same refresh token then gets the login-required error without a call to Spotify', async () => {
    const refreshToken = await signIn(stack.service.url, stack.accounts.url);
    const client = createSwapClient({ swapUrl: stack.service.url });
    expect(await client.revoke(refreshToken)).toEqual({ outcome: 'revoked' });

    const before = refreshCalls(stack);
    const store = createMemoryStore(expiredLogin(stack.service.url, refreshToken));
    const refused = await createSession({ store })
      .getAccessToken()
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LoginRequiredError);
    expect(refused).toMatchObject({ code: 'refresh_token_rejected' });
    expect(refreshCalls(stack)).toBe(before);
    expect(await store.load()).toBeUndefined();
  });

  it('revokes under an app path, /apps/{name}/revoke, as swap and refresh do', async () => {
    const swapUrl = `${stack.service.url}/apps/web/`;
    const refreshToken = await signIn(swapUrl, stack.accounts.url);
    const client = createSwapClient({ swapUrl });
    expect((await client.refresh(refreshToken)).access_token).toMatch(/^BQ/);
    expect(await client.revoke(refreshToken)).toEqual({ outcome: 'revoked' });
    await expect(client.refresh(refreshToken)).rejects.toMatchObject({ error: 'invalid_grant', status: 400 });
  });

  it('answers revoked for a token the service never issued, as RFC 7009 has it', async () => {
    const client = createSwapClient({ swapUrl: stack.service.url });
    expect(await client.revoke('sts2.not-a-token-of-this-service')).toEqual({ outcome: 'revoked' });
  });

  it('throws a SwapServiceError for any other refusal: a rate limit carries its Retry-After', async () => {
    const limited = await startStack({ env: { RATE_LIMIT_REFRESH_PER_MINUTE: '1' } });
    try {
      const client = createSwapClient({ swapUrl: limited.service.url });
      // The revoke budget is RATE_LIMIT_REFRESH_PER_MINUTE's (src/server/token-routes.ts): one, then 429.
      expect(await client.revoke('sts2.whatever')).toEqual({ outcome: 'revoked' });
      const refusal = await client.revoke('sts2.whatever').catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(SwapServiceError);
      expect(refusal).toMatchObject({ error: 'rate_limited', status: 429, retryAfter: expect.any(Number) });
    } finally {
      await limited.close();
    }
  });

  it('session.logout revokes, then forgets the login', async () => {
    const refreshToken = await signIn(stack.service.url, stack.accounts.url);
    const store = createMemoryStore(expiredLogin(stack.service.url, refreshToken));
    expect(await createSession({ store }).logout()).toEqual({ outcome: 'revoked' });
    expect(await store.load()).toBeUndefined();
    const refresh = await postForm(`${stack.service.url}/refresh`, { refresh_token: refreshToken });
    expect([refresh.status, ((await refresh.json()) as { error: string }).error]).toEqual([
      400,
      'invalid_grant',
    ]);
  });

  it('session.logout during a refresh in flight waits for it, so the refreshed login is not saved back', async () => {
    const refreshToken = await signIn(stack.service.url, stack.accounts.url);
    const store = createMemoryStore(expiredLogin(stack.service.url, refreshToken));
    const session = createSession({ store });
    await injectFault(stack.accounts.url, { kind: 'slow', delayMs: 500 });
    const before = refreshCalls(stack);
    const refreshing = session.getAccessToken();
    // The refresh has reached Spotify (the sandbox counts it before its delay) when the sign-out starts.
    await expect.poll(() => refreshCalls(stack), { interval: 10 }).toBe(before + 1);
    const result = await session.logout();
    expect(await refreshing).toMatch(/^BQ/);
    expect(result).toEqual({ outcome: 'revoked' });
    expect(await store.load()).toBeUndefined();
  });

  it('session.logout says when there was nothing to revoke', async () => {
    expect(await createSession({ store: createMemoryStore() }).logout()).toEqual({
      outcome: 'not_logged_in',
    });
    const login = expiredLogin(stack.service.url, 'unused');
    login.tokens.refreshToken = undefined;
    const store = createMemoryStore(login);
    expect(await createSession({ store }).logout()).toEqual({ outcome: 'no_refresh_token' });
    expect(await store.load()).toBeUndefined();
  });
});

describe('revoke() where the service keeps no revocations', () => {
  let service: StorelessService;
  beforeAll(async () => {
    service = await startStorelessService();
  });
  afterAll(() => service.close());

  it('is unsupported (501 revocation_unavailable), and the refresh token still works', async () => {
    const refreshToken = await signIn(service.url, service.accountsUrl);
    const client = createSwapClient({ swapUrl: service.url });
    const result = await client.revoke(refreshToken);
    expect(result).toMatchObject({
      outcome: 'unsupported',
      error: { error: 'revocation_unavailable', status: 501, errorDescription: expect.any(String) },
    });
    expect((await client.refresh(refreshToken)).access_token).toMatch(/^BQ/);
  });

  it('session.logout forgets the login all the same', async () => {
    const refreshToken = await signIn(service.url, service.accountsUrl);
    const store = createMemoryStore(expiredLogin(service.url, refreshToken));
    expect(await createSession({ store }).logout()).toMatchObject({ outcome: 'unsupported' });
    expect(await store.load()).toBeUndefined();
  });
});

describe('revoke() without a service', () => {
  it('is unreachable on a closed port, and session.logout forgets the login all the same', async () => {
    const swapUrl = await closedPortUrl();
    const result = await createSwapClient({ swapUrl }).revoke('sts2.whatever');
    expect(result.outcome).toBe('unreachable');
    if (result.outcome !== 'unreachable') return;
    expect(result.error).toBeInstanceOf(SwapServiceUnreachableError);
    expect(result.error.code).toBe('unreachable');

    const store = createMemoryStore(expiredLogin(swapUrl, 'sts2.whatever'));
    expect(await createSession({ store }).logout()).toMatchObject({
      outcome: 'unreachable',
      error: { code: 'unreachable' },
    });
    expect(await store.load()).toBeUndefined();
  });

  it('is unreachable with code timeout on a service that never answers', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const swapUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const result = await createSwapClient({ swapUrl, timeoutMs: 200 }).revoke('sts2.whatever');
      expect(result).toMatchObject({ outcome: 'unreachable', error: { code: 'timeout' } });
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('processRevokeResponse reads the service as untrusted input', () => {
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'Content-Type': 'application/json', ...headers },
    });
  const refusal = (response: Response) =>
    processRevokeResponse(response).then(
      (result) => {
        throw new Error(`expected a refusal, got ${JSON.stringify(result)}`);
      },
      (error: unknown) => error,
    );

  it('counts a 200 as revoked whatever its body (RFC 7009 §2.2: the client ignores it)', async () => {
    expect(await processRevokeResponse(new Response('not json \u001b[31m', { status: 200 }))).toEqual({
      outcome: 'revoked',
    });
  });

  it('is unsupported only for a 501 that says revocation_unavailable', async () => {
    expect(
      await processRevokeResponse(
        json(501, { error: 'revocation_unavailable', error_description: 'none here' }),
      ),
    ).toMatchObject({ outcome: 'unsupported', error: { errorDescription: 'none here' } });
    expect(await refusal(json(501, { error: 'not_implemented' }))).toMatchObject({
      error: 'not_implemented',
      status: 501,
    });
  });

  it('keeps a well-formed OAuth error, drops a description a terminal would interpret', async () => {
    expect(
      await refusal(json(400, { error: 'invalid_request', error_description: 'token is missing' })),
    ).toMatchObject({ error: 'invalid_request', errorDescription: 'token is missing', status: 400 });
    expect(
      await refusal(json(400, { error: 'invalid_request', error_description: 'a\u001b]0;pwned\u0007' })),
    ).toMatchObject({ error: 'invalid_request', errorDescription: undefined });
    expect(await refusal(new Response('<html>oops</html>', { status: 500 }))).toMatchObject({
      error: 'invalid_response',
      status: 500,
    });
  });

  it('refuses a redirect and any success other than 200', async () => {
    const redirect = new Response(null, { status: 307, headers: { Location: 'https://elsewhere.example/' } });
    expect(await refusal(redirect)).toMatchObject({ error: 'invalid_response', status: 307 });
    expect(await refusal(new Response(null, { status: 204 }))).toMatchObject({
      error: 'invalid_response',
      errorDescription: 'The swap service answered HTTP 204',
    });
  });
});
