/**
 * Swift and React Native re-implementations of the swap contract, after wwdrew/expo-spotify-sdk,
 * replayed byte for byte.
 *
 * Sourced (read in the library's source):
 * - ios/SpotifyTokenRefreshClient.swift (the iOS refresh): a URLRequest with `POST`,
 *   `Content-Type: application/x-www-form-urlencoded`, `User-Agent: expo-spotify-sdk/<version>`, and a
 *   body built by URLComponents from the Swift dictionary `["refresh_token": ..., "client_id": ...]`, whose
 *   order is unspecified (both orders are replayed). The answer is read with JSONSerialization:
 *   `json["access_token"] as? String` (non-empty), `json["expires_in"] as? Int` (else "missing required
 *   field: expires_in": a JSON string "3600" fails), `refresh_token` optional (absent or "" keeps the old
 *   one), `scope` split on spaces. A non-2xx status fails with the first 512 characters of the body.
 * - android/.../SpotifyTokenSwapClient.kt (the Android swap and refresh): OkHttp FormBody
 *   `code`, `redirect_uri`, `client_id` (swap) and `refresh_token`, `client_id` (refresh), with
 *   `User-Agent: expo-spotify-sdk/<version>`; `optInt("expires_in", -1)`. Its README says the 2.x lane
 *   normalized Android to `code` / `refresh_token` only, while 1.x keeps the extra fields: both replayed.
 * - Versions read: the files at the commits the code search stored (2026), not a tagged release.
 * - The iOS swap is SPTSessionManager's own (ios/SpotifyAuthCoordinator.swift): see ios-sdk.test.ts.
 *
 * Assumed: the header lines URLSession and OkHttp add themselves (Host, Accept*, Connection,
 * Content-Length) and their order; OkHttp's FormBody percent-encoding of `:` and `/`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasIntegerLiteral, hostOf, type RawResponse, send } from '../helpers/clients-wire.js';
import { type Listening, listen } from '../helpers/listen.js';
import { authorize, CLIENT_ID, SECRET_A, type Stack, startStack } from '../helpers/stack.js';

const APP_REDIRECT_URI = 'myapp://callback';
const USER_AGENT = 'expo-spotify-sdk/1.2.0';

/** URLSession, for SpotifyTokenRefreshClient's request (the two set headers sourced, the rest assumed). */
function urlSessionPost(baseUrl: string, path: string, body: string): Promise<RawResponse> {
  const bytes = Buffer.from(body, 'utf8');
  return send(baseUrl, {
    method: 'POST',
    target: path,
    headers: [
      ['Host', hostOf(baseUrl)],
      ['Content-Type', 'application/x-www-form-urlencoded'],
      ['User-Agent', USER_AGENT],
      ['Accept', '*/*'],
      ['Accept-Language', 'en-GB,en;q=0.9'],
      ['Accept-Encoding', 'gzip, deflate, br'],
      ['Content-Length', String(bytes.length)],
      ['Connection', 'keep-alive'],
    ],
    body: bytes,
  });
}

/** OkHttp, for SpotifyTokenSwapClient: the user's User-Agent, then what BridgeInterceptor adds. */
function okHttpPost(baseUrl: string, path: string, body: string): Promise<RawResponse> {
  const bytes = Buffer.from(body, 'utf8');
  return send(baseUrl, {
    method: 'POST',
    target: path,
    headers: [
      ['User-Agent', USER_AGENT],
      ['Content-Type', 'application/x-www-form-urlencoded'],
      ['Content-Length', String(bytes.length)],
      ['Host', hostOf(baseUrl)],
      ['Connection', 'Keep-Alive'],
      ['Accept-Encoding', 'gzip'],
    ],
    body: bytes,
  });
}

/** SpotifyTokenRefreshClient's parse, step by step, with its error messages. */
function swiftParse(response: RawResponse, previousRefreshToken?: string) {
  if (response.status < 200 || response.status >= 300) {
    throw new Error(
      `Token refresh server returned HTTP ${response.status}: ${response.text().slice(0, 512)}`,
    );
  }
  const json = response.json() as Record<string, unknown>;
  const accessToken = json.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new Error('Refresh response missing required field: access_token');
  }
  // `as? Int` on what JSONSerialization made of the text: a number, never a string.
  if (!hasIntegerLiteral(response.text(), 'expires_in')) {
    throw new Error('Refresh response missing required field: expires_in');
  }
  const rotated =
    typeof json.refresh_token === 'string' && json.refresh_token !== '' ? json.refresh_token : undefined;
  return {
    accessToken,
    expiresIn: json.expires_in as number,
    refreshToken: rotated ?? previousRefreshToken,
    scopes: typeof json.scope === 'string' ? json.scope.split(' ') : [],
  };
}

describe('against the sandbox', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: { SPOTIFY_REDIRECT_URI: APP_REDIRECT_URI, ENCRYPTION_SECRET: SECRET_A },
    });
  });
  afterAll(() => stack.close());

  /** The Android swap body: 1.x and the source read send the extras; 2.x sends `code` only (its README). */
  async function androidSwap(shape: 'legacy' | 'normalized' = 'legacy'): Promise<RawResponse> {
    const { code } = await authorize(stack.accounts.url, { redirect_uri: APP_REDIRECT_URI });
    const body =
      shape === 'legacy'
        ? `code=${code}&redirect_uri=myapp%3A%2F%2Fcallback&client_id=${CLIENT_ID}`
        : `code=${code}`;
    return okHttpPost(stack.service.url, '/swap', body);
  }

  it.each(['legacy', 'normalized'] as const)(
    'answers the Android swap (%s body) with an integer expires_in',
    async (shape) => {
      const response = await androidSwap(shape);
      expect(response.header('content-type')).toBe('application/json');
      const session = swiftParse(response);
      expect(session.expiresIn).toBe(3600);
      expect(session.refreshToken).toMatch(/^sts2\.[A-Za-z0-9_-]+$/);
    },
  );

  it.each([
    ['refresh_token first', (token: string) => `refresh_token=${token}&client_id=${CLIENT_ID}`],
    ['client_id first', (token: string) => `client_id=${CLIENT_ID}&refresh_token=${token}`],
  ])(
    'answers the iOS refresh (%s) so that `as? Int` reads expires_in and the old token is kept',
    async (_, body) => {
      const { refresh_token } = (await androidSwap()).json() as { refresh_token: string };
      const response = await urlSessionPost(stack.service.url, '/refresh', body(refresh_token));
      const session = swiftParse(response, refresh_token);
      expect(session.expiresIn).toBe(3600);
      expect(session.refreshToken).toBe(refresh_token);
      expect(session.scopes).toEqual(['user-read-email', 'user-read-private']);
    },
  );

  it.each([
    ['legacy', (token: string) => `refresh_token=${token}&client_id=${CLIENT_ID}`],
    ['normalized', (token: string) => `refresh_token=${token}`],
  ])('answers the Android refresh (%s body) the same way', async (_, body) => {
    const { refresh_token } = (await androidSwap()).json() as { refresh_token: string };
    const response = await okHttpPost(stack.service.url, '/refresh', body(refresh_token));
    expect(swiftParse(response, refresh_token).expiresIn).toBe(3600);
  });

  it('puts invalid_grant in the first 512 characters of a failed refresh, where the app looks for it', async () => {
    const response = await urlSessionPost(
      stack.service.url,
      '/refresh',
      `refresh_token=sts1.AAAA&client_id=${CLIENT_ID}`,
    );
    expect(response.status).toBe(400);
    expect(() => swiftParse(response)).toThrow(
      /^Token refresh server returned HTTP 400: .*"error":"invalid_grant"/,
    );
  });
});

describe('against an Accounts server that sends expires_in as a string', () => {
  // Spotify's docs show `"expires_in": "3600"` in one example; the sandbox always sends a number, so a
  // tiny fake Accounts server stands in for that case, over a real socket.
  let fake: Listening;
  let stack: Stack;
  const answered: string[] = [];

  beforeAll(async () => {
    fake = await listen(async (request) => {
      const form = new URLSearchParams(await request.text());
      const grant = form.get('grant_type');
      const body =
        grant === 'authorization_code'
          ? '{"access_token":"BQfake-swapped","token_type":"Bearer","expires_in":"3600","refresh_token":"AQfake-refresh","scope":"user-read-email"}'
          : '{"access_token":"BQfake-refreshed","token_type":"Bearer","expires_in":"3600","scope":"user-read-email"}';
      answered.push(body);
      return new Response(body, { headers: { 'Content-Type': 'application/json' } });
    });
    stack = await startStack({
      env: {
        SPOTIFY_ACCOUNTS_URL: fake.url,
        SPOTIFY_REDIRECT_URI: APP_REDIRECT_URI,
        ENCRYPTION_SECRET: SECRET_A,
      },
    });
  });
  afterAll(async () => {
    await stack.close();
    await fake.close();
  });

  it('turns it into a JSON number on the swap and on the refresh', async () => {
    const swap = await okHttpPost(
      stack.service.url,
      '/swap',
      `code=AQfake-code&redirect_uri=myapp%3A%2F%2Fcallback&client_id=${CLIENT_ID}`,
    );
    expect(answered.at(-1)).toContain('"expires_in":"3600"');
    expect(swiftParse(swap).expiresIn).toBe(3600);
    const { refresh_token } = swap.json() as { refresh_token: string };

    const refresh = await urlSessionPost(
      stack.service.url,
      '/refresh',
      `refresh_token=${refresh_token}&client_id=${CLIENT_ID}`,
    );
    expect(answered.at(-1)).toContain('"expires_in":"3600"');
    expect(swiftParse(refresh, refresh_token)).toEqual({
      accessToken: 'BQfake-refreshed',
      expiresIn: 3600,
      refreshToken: refresh_token,
      scopes: ['user-read-email'],
    });
    expect(answered).toHaveLength(2);
  });
});
