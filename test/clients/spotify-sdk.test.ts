/**
 * Spotify's own TypeScript SDK (`@spotify/web-api-ts-sdk`, `SpotifyApi`) on a client-kit session,
 * through `spotifySdkAuth`: its calls carry the session's access token, an expired one is refreshed
 * through the swap service first (with the login's DPoP key), and `logOut()` signs out there. The SDK
 * has no setting for the Web API's base URL (`SpotifyApi.rootUrl` is private and fixed); its
 * documented `fetch` option ("Extensibility - fetch" in its README) sends its requests to the
 * sandbox's Web API instead.
 */
import { type IAuthStrategy, SpotifyApi } from '@spotify/web-api-ts-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDpopKey,
  createMemoryStore,
  createSession,
  createSwapClient,
  LoginRequiredError,
  type LogoutResult,
  type Session,
  spotifySdkAuth,
  type TokenStore,
  tokenSetFromResponse,
} from '../../src/client/index.js';
import { recordingFetch, verifyProof } from '../helpers/dpop.js';
import { authorize, REDIRECT_URI, type Stack, startStack } from '../helpers/stack.js';

const SPOTIFY_WEB_API = 'https://api.spotify.com/';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

/** The SDK's fetch option, sending what it meant for api.spotify.com to the sandbox's Web API. */
function toSandbox(calls: string[]) {
  return (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    calls.push(url);
    if (!url.startsWith(SPOTIFY_WEB_API)) throw new Error(`unexpected request to ${url}`);
    return fetch(`${stack.accounts.url}/${url.slice(SPOTIFY_WEB_API.length)}`, init);
  };
}

/** A logged-in session whose access token has expired, so the first use refreshes it. */
async function expiredSession(withKey: boolean) {
  const dpopKey = withKey ? await createDpopKey() : undefined;
  const { code } = await authorize(stack.accounts.url);
  const answer = await createSwapClient({ swapUrl: stack.service.url }).swap(code, {
    redirectUri: REDIRECT_URI,
    dpopKey,
  });
  const tokens = { ...tokenSetFromResponse(answer), expiresAt: Date.now() - 1 };
  const store: TokenStore = createMemoryStore({
    swapUrl: stack.service.url,
    tokens,
    ...(dpopKey ? { dpopKey } : {}),
  });
  const recorder = recordingFetch();
  const session: Session = createSession({ store, fetch: recorder.fetch });
  return { session, store, tokens, recorder, dpopKey };
}

describe('@spotify/web-api-ts-sdk on a client-kit session', () => {
  it('takes spotifySdkAuth as its IAuthStrategy, and reads /v1/me with a token refreshed through the service', async () => {
    const { session, store, tokens, recorder, dpopKey } = await expiredSession(true);
    const strategy: IAuthStrategy = spotifySdkAuth(session);
    const calls: string[] = [];
    const sdk = new SpotifyApi(strategy, { fetch: toSandbox(calls) });

    const me = await sdk.currentUser.profile();
    expect(me.id).toBeTruthy();
    expect(calls).toEqual([`${SPOTIFY_WEB_API}v1/me`]);
    // Refreshed at the swap service with a proof by the login's key, before the SDK's request.
    expect(recorder.proofs.map((sent) => new URL(sent.url).pathname)).toEqual(['/refresh']);
    expect((await verifyProof(recorder.proofs[0]?.proof ?? '')).header.jwk).toEqual(dpopKey?.publicJwk);
    const stored = (await store.load())?.tokens;
    expect(stored?.accessToken).not.toBe(tokens.accessToken);

    const handedOut = await sdk.getAccessToken();
    expect(handedOut).toMatchObject({ access_token: stored?.accessToken, refresh_token: '' });
    expect(handedOut?.expires).toBe(stored?.expiresAt);
    // The SDK's own check of a usable token.
    expect((await sdk.authenticate()).authenticated).toBe(true);
    // A second call uses the stored token: no refresh.
    await sdk.currentUser.profile();
    expect(recorder.proofs).toHaveLength(1);
  });

  it('never hands the SDK the sealed refresh token', async () => {
    const { session, store } = await expiredSession(false);
    const sdk = new SpotifyApi(spotifySdkAuth(session), { fetch: toSandbox([]) });
    await sdk.currentUser.profile();
    const refreshToken = (await store.load())?.tokens.refreshToken;
    expect(refreshToken).toBeTruthy();
    expect(JSON.stringify(await sdk.getAccessToken())).not.toContain(refreshToken);
  });

  it('signs out at the swap service on logOut(), and then its calls say the user must log in', async () => {
    const { session, store, dpopKey } = await expiredSession(true);
    const refreshToken = (await store.load())?.tokens.refreshToken ?? '';
    let loggedOut: (result: LogoutResult) => void = () => {};
    const outcome = new Promise<LogoutResult>((resolve) => {
      loggedOut = resolve;
    });
    const sdk = new SpotifyApi(spotifySdkAuth(session, { onLogout: loggedOut }), {
      fetch: toSandbox([]),
    });
    sdk.logOut();
    expect(await outcome).toEqual({ outcome: 'revoked' });
    expect(await store.load()).toBeUndefined();
    expect(await sdk.getAccessToken()).toBeNull();
    await expect(sdk.currentUser.profile()).rejects.toBeInstanceOf(LoginRequiredError);
    // Revoked at the service: the refresh token is refused there, even with the login's key.
    const refused = await createSwapClient({ swapUrl: stack.service.url, dpopKey })
      .refresh(refreshToken)
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ error: 'invalid_grant' });
  });
});
