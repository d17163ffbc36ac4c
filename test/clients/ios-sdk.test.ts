/**
 * The Spotify iOS SDK: `SPTConfiguration.tokenSwapURL` / `tokenRefreshURL`, used by SPTSessionManager
 * (`initiateSession`, `renewSession`), replayed byte for byte as far as the facts go.
 *
 * Sourced:
 * - Spotify's "Token Swap and Refresh" guide for the iOS SDK (developer.spotify.com/documentation/ios/
 *   guides/token-swap-and-refresh): the swap is a POST with `Content-Type:
 *   application/x-www-form-urlencoded` and one documented field, `code`; the answer must be JSON
 *   (`Content-Type: application/json`) with `access_token`, `expires_in` and `refresh_token`.
 * - spotify/ios-sdk DemoProjects/spotify_token_swap.rb, Spotify's reference server: reads
 *   `params[:code]` on /swap and `params[:refresh_token]` on /refresh (form fields).
 * - spotify/ios-streaming-sdk#695 and lufinkey/react-native-spotify#22: observed to be form-urlencoded.
 * - The extra fields: wwdrew/expo-spotify-sdk example/app/swap+api.ts documents the native SDK's swap
 *   body as `code`, `redirect_uri`, `client_id`; its refresh clients send `refresh_token` and
 *   `client_id` (ios/SpotifyTokenRefreshClient.swift, android/.../SpotifyTokenSwapClient.kt).
 * - PKCE, spotify/ios-sdk#257: SPTSessionManager puts a `code_challenge` on the authorize URL even when a
 *   swap URL is set, so the code can only be exchanged with the matching `code_verifier`. The thread's
 *   workaround reads the verifier from the session manager (`PKCEProvider.codeVerifier`) and posts it
 *   with the code; SPTSessionManagerDelegate's `shouldRequestAccessTokenWithAuthorizationCode:` lets an
 *   app do that swap itself (SPTSessionManager.h, and spotify/ios-sdk#317).
 * - The SDK keeps the refresh token it has when a refresh answers none: Spotify's own Ruby example
 *   returns Spotify's refresh answer as is, which usually has no refresh_token.
 *
 * Assumed (the SDK is a closed binary): the header lines NSURLSession adds (Accept, Accept-Language,
 * Accept-Encoding, a CFNetwork User-Agent, Connection) and their order; the field order; whether
 * `redirect_uri` reaches the body percent-encoded or raw (both are replayed); whether current SDK builds
 * post `code_verifier` themselves (the README says so; #257 says apps had to). The bytes for
 * `code_verifier` are the same whoever posts them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pkceChallenge, randomToken } from '../../src/shared/encoding.js';
import { formFields, hasIntegerLiteral, hostOf, type RawResponse, send } from '../helpers/clients-wire.js';
import { authorize, CLIENT_ID, SECRET_A, type Stack, startStack } from '../helpers/stack.js';

const APP_REDIRECT_URI = 'myapp://callback';
const USER_AGENT = 'MyApp/1 CFNetwork/1494.0.7 Darwin/23.4.0';

/** What NSURLSession writes for the SDK's form POST (header set and order assumed, see above). */
function sdkPost(baseUrl: string, path: string, body: string, contentType: string): Promise<RawResponse> {
  const bytes = Buffer.from(body, 'utf8');
  return send(baseUrl, {
    method: 'POST',
    target: path,
    headers: [
      ['Host', hostOf(baseUrl)],
      ['Content-Type', contentType],
      ['Accept', '*/*'],
      ['Accept-Language', 'en-GB,en;q=0.9'],
      ['Accept-Encoding', 'gzip, deflate, br'],
      ['User-Agent', USER_AGENT],
      ['Content-Length', String(bytes.length)],
      ['Connection', 'keep-alive'],
    ],
    body: bytes,
  });
}

const FORM = 'application/x-www-form-urlencoded';

let stack: Stack;
let rotating: Stack;

beforeAll(async () => {
  // As the iOS recipe says: the app's redirect URI is the service's default one.
  const env = { SPOTIFY_REDIRECT_URI: APP_REDIRECT_URI, ENCRYPTION_SECRET: SECRET_A };
  stack = await startStack({ env });
  rotating = await startStack({ env, sandbox: { rotateRefreshTokens: true } });
});
afterAll(async () => {
  await stack.close();
  await rotating.close();
});

async function appCode(target: Stack, params: Record<string, string> = {}): Promise<string> {
  return (await authorize(target.accounts.url, { redirect_uri: APP_REDIRECT_URI, ...params })).code;
}

/** What SPTSession needs from a swap or refresh answer. */
function expectSession(response: RawResponse, swap: boolean): Record<string, unknown> {
  expect(response.status, response.text()).toBe(200);
  expect(response.header('content-type')).toBe('application/json');
  const body = response.json() as Record<string, unknown>;
  expect(body.access_token).toMatch(/^BQ/);
  expect(hasIntegerLiteral(response.text(), 'expires_in')).toBe(true);
  expect(body.expires_in).toBe(3600);
  expect(body.scope).toBe('user-read-email user-read-private');
  if (swap) {
    // Sealed, and in an alphabet that needs no escaping however the SDK builds its next form body.
    expect(body.refresh_token).toMatch(/^sts2\.[A-Za-z0-9_-]+$/);
  }
  return body;
}

describe('iOS SDK tokenSwapURL', () => {
  it('swaps the one documented field, `code`', async () => {
    const code = await appCode(stack);
    expectSession(await sdkPost(stack.service.url, '/swap', `code=${code}`, FORM), true);
  });

  it.each([
    [
      'percent-encoded',
      FORM,
      (code: string) => `code=${code}&redirect_uri=myapp%3A%2F%2Fcallback&client_id=${CLIENT_ID}`,
    ],
    [
      'raw, as URLComponents leaves : and /',
      FORM,
      (code: string) => `code=${code}&redirect_uri=myapp://callback&client_id=${CLIENT_ID}`,
    ],
    [
      'with a charset',
      `${FORM}; charset=utf-8`,
      (code: string) => `code=${code}&redirect_uri=myapp%3A%2F%2Fcallback&client_id=${CLIENT_ID}`,
    ],
  ])('swaps with the extra redirect_uri and client_id wrappers report (%s)', async (_, contentType, body) => {
    const code = await appCode(stack);
    expectSession(await sdkPost(stack.service.url, '/swap', body(code), contentType), true);
    // client_id is the app's business, not Spotify's: only the OAuth fields go upstream.
    expect(stack.sandbox.stats().lastTokenRequest?.params).toEqual(['grant_type', 'code', 'redirect_uri']);
  });

  it('answers errors as JSON error / error_description', async () => {
    const response = await sdkPost(stack.service.url, '/swap', 'code=AQD-not-a-code', FORM);
    expect(response.status).toBe(400);
    expect(response.header('content-type')).toBe('application/json');
    expect(response.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid authorization code',
    });
  });
});

describe('iOS SDK with PKCE (spotify/ios-sdk#257)', () => {
  async function pkceCode() {
    const verifier = randomToken(48);
    const code = await appCode(stack, {
      code_challenge: await pkceChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return { code, verifier };
  }

  it('forwards code_verifier, so a code issued with a code_challenge is exchanged', async () => {
    const { code, verifier } = await pkceCode();
    const body = `code=${code}&redirect_uri=myapp%3A%2F%2Fcallback&client_id=${CLIENT_ID}&code_verifier=${verifier}`;
    expectSession(await sdkPost(stack.service.url, '/swap', body, FORM), true);
    expect(stack.sandbox.stats().lastTokenRequest).toMatchObject({
      hadBasicAuth: true,
      params: ['grant_type', 'code', 'redirect_uri', 'code_verifier'],
    });
  });

  it("passes Spotify's refusal through when the verifier is missing or wrong", async () => {
    const missing = await pkceCode();
    const without = await sdkPost(stack.service.url, '/swap', `code=${missing.code}`, FORM);
    expect(without.status).toBe(400);
    expect(without.json()).toEqual({ error: 'invalid_request', error_description: 'code_verifier required' });

    const wrong = await pkceCode();
    const mismatched = await sdkPost(
      stack.service.url,
      '/swap',
      `code=${wrong.code}&code_verifier=${randomToken(48)}`,
      FORM,
    );
    expect(mismatched.status).toBe(400);
    expect(mismatched.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'code_verifier was incorrect',
    });
  });
});

describe('iOS SDK tokenRefreshURL', () => {
  async function swapped(target: Stack): Promise<string> {
    const code = await appCode(target);
    const body = expectSession(await sdkPost(target.service.url, '/swap', `code=${code}`, FORM), true);
    return body.refresh_token as string;
  }

  it('refreshes with refresh_token and client_id, omitting refresh_token when Spotify did not rotate', async () => {
    const refreshToken = await swapped(stack);
    const form = `refresh_token=${refreshToken}&client_id=${CLIENT_ID}`;
    expect(formFields(Buffer.from(form))).toEqual([
      ['refresh_token', refreshToken],
      ['client_id', CLIENT_ID],
    ]);
    const first = expectSession(await sdkPost(stack.service.url, '/refresh', form, FORM), false);
    expect(Object.keys(first)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'scope',
      'refresh_token_expires_in',
    ]);
    // The SDK keeps the token it has, and it keeps working.
    const second = expectSession(await sdkPost(stack.service.url, '/refresh', form, FORM), false);
    expect(second.refresh_token).toBeUndefined();
    expect(second.access_token).not.toBe(first.access_token);
  });

  it('hands back a rotated refresh token sealed like the first, and it is the one that works next', async () => {
    const old = await swapped(rotating);
    const rotated = expectSession(
      await sdkPost(rotating.service.url, '/refresh', `refresh_token=${old}&client_id=${CLIENT_ID}`, FORM),
      false,
    );
    expect(rotated.refresh_token).toMatch(/^sts2\.[A-Za-z0-9_-]+$/);
    expect(rotated.refresh_token).not.toBe(old);
    const next = await sdkPost(
      rotating.service.url,
      '/refresh',
      `refresh_token=${rotated.refresh_token}`,
      FORM,
    );
    expectSession(next, false);
    const stale = await sdkPost(rotating.service.url, '/refresh', `refresh_token=${old}`, FORM);
    expect(stale.status).toBe(400);
    expect(stale.json()).toEqual({ error: 'invalid_grant', error_description: 'Refresh token revoked' });
  });
});
