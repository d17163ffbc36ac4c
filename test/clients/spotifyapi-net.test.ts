/**
 * SpotifyAPI-NET (JohnnyCrazy/SpotifyAPI-NET): `new OAuthClient().RequestToken(new TokenSwapTokenRequest(uri,
 * code))` and `RequestToken(new TokenSwapRefreshRequest(uri, refreshToken))`, replayed byte for byte.
 *
 * Sourced (read in the library's source):
 * - Clients/OAuthClient.cs: the swap posts `new FormUrlEncodedContent` of one field, `code`; the refresh
 *   one field, `refresh_token`. No Authorization header, no redirect_uri, nothing else.
 * - dotnet/runtime FormUrlEncodedContent.cs: `Content-Type: application/x-www-form-urlencoded` with no
 *   charset; each name and value is `Uri.EscapeDataString(v).Replace("%20", "+")`.
 * - Http/NetHttpClient.cs: a plain `new HttpClient()`, so no User-Agent and no Accept are sent;
 *   `ContentType = content.Headers.ContentType.MediaType`.
 * - Http/NewtonsoftJSONSerializer.cs: the body is deserialized only when that media type equals
 *   "application/json" (ordinal) or is absent; otherwise RequestToken returns null. Snake-case names.
 * - Models/Response/AuthorizationCodeTokenResponse.cs / AuthorizationCodeRefreshResponse.cs:
 *   `int ExpiresIn`; `IsExpired` is `CreatedAt.AddSeconds(ExpiresIn) <= UtcNow`, so a missing
 *   expires_in (0) means expired at once. The refresh response has no RefreshToken property.
 * - Http/APIConnector.cs ProcessErrors: any status >= 400 throws; 429 throws APITooManyRequestsException,
 *   whose constructor runs `int.Parse(retryAfter)` on the Retry-After header (an HTTP date throws a
 *   FormatException instead: Retry-After is a known header in dotnet/runtime KnownHeaders.cs, parsed as a
 *   RetryConditionHeaderValue and found under its canonical name whatever the case on the wire, and a
 *   date comes back out as a date). Exceptions/APIException.cs: the message is the body's `error` when it is
 *   a string (or `error.message` when an object), else null.
 *
 * Assumed (not visible in the library): the order of the header lines, which SocketsHttpHandler
 * chooses (Host first, then the content headers). The service must not care about order anyway.
 * The library targets netstandard2.0, so it also runs on .NET Framework (and Unity), whose HttpClient
 * goes through HttpWebRequest: there `ServicePointManager.Expect100Continue` is true by default, so a
 * POST sends `Expect: 100-continue` and holds its body until `100 Continue` (or 350 ms); the header
 * lines of that variant are as commonly captured from .NET Framework, not read in its source.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  formatRequest,
  hasIntegerLiteral,
  hostOf,
  type RawResponse,
  send,
  sendRaw,
} from '../helpers/clients-wire.js';
import { injectFault } from '../helpers/sandbox-control.js';
import { authorize, REDIRECT_URI, SECRET_A, type Stack, startStack } from '../helpers/stack.js';

/** .NET's Uri.EscapeDataString: RFC 3986 unreserved characters stay, everything else is %XX (UTF-8). */
function escapeDataString(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** FormUrlEncodedContent's body for the given pairs, in order. */
function formUrlEncodedContent(pairs: [string, string][]): Buffer {
  const encode = (v: string) => escapeDataString(v).replace(/%20/g, '+');
  return Buffer.from(pairs.map(([n, v]) => `${encode(n)}=${encode(v)}`).join('&'), 'latin1');
}

/** What `HttpClient.SendAsync` writes for `apiConnector.Post<T>(uri, null, new FormUrlEncodedContent(form))`. */
function dotnetPost(baseUrl: string, path: string, pairs: [string, string][]): Promise<RawResponse> {
  const body = formUrlEncodedContent(pairs);
  return send(baseUrl, {
    method: 'POST',
    target: path,
    headers: [
      ['Host', hostOf(baseUrl)],
      ['Content-Type', 'application/x-www-form-urlencoded'],
      ['Content-Length', String(body.length)],
    ],
    body,
  });
}

const tokenSwapTokenRequest = (stack: Stack, code: string) =>
  dotnetPost(stack.service.url, '/swap', [['code', code]]);
const tokenSwapRefreshRequest = (stack: Stack, refreshToken: string) =>
  dotnetPost(stack.service.url, '/refresh', [['refresh_token', refreshToken]]);

const INT32_MAX = 2 ** 31 - 1;

/** What NewtonsoftJSONSerializer needs before it deserializes anything: the media type, exactly. */
function expectDeserializable(response: RawResponse) {
  const contentType = response.header('content-type');
  expect(contentType?.split(';')[0]?.trim()).toBe('application/json');
  // Stricter than the library needs, and what the README promises.
  expect(contentType).toBe('application/json');
}

/** Newtonsoft into AuthorizationCode{Token,Refresh}Response: snake_case keys, `int ExpiresIn` > 0. */
function expectTokenResponse(response: RawResponse, withRefreshToken: boolean) {
  expect(response.status).toBe(200);
  expectDeserializable(response);
  const text = response.text();
  const body = response.json() as Record<string, unknown>;
  expect(typeof body.access_token).toBe('string');
  expect(body.token_type).toBe('Bearer');
  expect(typeof body.scope).toBe('string');
  expect(hasIntegerLiteral(text, 'expires_in'), text).toBe(true);
  const expiresIn = body.expires_in as number;
  // IsExpired is CreatedAt + ExpiresIn <= now: zero or missing would mean a token dead on arrival.
  expect(expiresIn).toBeGreaterThan(0);
  expect(expiresIn).toBeLessThanOrEqual(INT32_MAX);
  if (withRefreshToken) {
    expect(body.refresh_token).toMatch(/^sts2\.[A-Za-z0-9_-]+$/);
  }
  return body;
}

/** APIException's message: the body's `error` string. Null would leave the app with nothing to show. */
function apiExceptionMessage(response: RawResponse): string | null {
  const body = response.json() as Record<string, unknown>;
  return typeof body.error === 'string' ? body.error : null;
}

/** APITooManyRequestsException: `int.Parse(retryAfter, CultureInfo.InvariantCulture)`. */
function intParse(value: string | undefined): number {
  // int.Parse with the default NumberStyles.Integer: optional sign and surrounding white space, digits.
  if (value === undefined || !/^\s*[+-]?\d+\s*$/.test(value)) {
    throw new Error(`int.Parse would throw FormatException on ${JSON.stringify(value)}`);
  }
  const n = Number(value);
  if (n > INT32_MAX || n < -(2 ** 31)) throw new Error(`int.Parse would throw OverflowException on ${value}`);
  return n;
}

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { ENCRYPTION_SECRET: SECRET_A } });
});
afterAll(() => stack.close());

/** The app's side: its redirect URI must be the service's default one, since the library sends none. */
async function code(): Promise<string> {
  return (await authorize(stack.accounts.url, { redirect_uri: REDIRECT_URI })).code;
}

describe('SpotifyAPI-NET TokenSwapTokenRequest', () => {
  it('gets tokens it can deserialize from the one-field form it sends', async () => {
    const response = await tokenSwapTokenRequest(stack, await code());
    const body = expectTokenResponse(response, true);
    expect(Object.keys(body)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'scope',
      'refresh_token',
      'refresh_token_expires_in',
    ]);
    expect(response.header('cache-control')).toBe('no-store');
    // The service used its default redirect URI, the one the app authorized with.
    expect(stack.sandbox.stats().lastTokenRequest?.params).toEqual(['grant_type', 'code', 'redirect_uri']);
  });

  it('gets an error message from `error` for a reused code', async () => {
    const reused = await code();
    expect((await tokenSwapTokenRequest(stack, reused)).status).toBe(200);
    const response = await tokenSwapTokenRequest(stack, reused);
    expect(response.status).toBe(400);
    expectDeserializable(response);
    expect(apiExceptionMessage(response)).toBe('invalid_grant');
    expect(response.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid authorization code',
    });
  });

  it('fails with invalid_grant when the app authorized with a redirect URI other than the default', async () => {
    // The library cannot send redirect_uri: the app's redirect URI has to be the first one configured.
    const { code: other } = await authorize(stack.accounts.url, { redirect_uri: 'myapp://callback' });
    const response = await tokenSwapTokenRequest(stack, other);
    expect(response.status).toBe(400);
    expect(apiExceptionMessage(response)).toBe('invalid_grant');
    expect((response.json() as { error_description: string }).error_description).toBe('Invalid redirect URI');
  });
});

describe('SpotifyAPI-NET on .NET Framework (Expect: 100-continue)', () => {
  it('gets 100 Continue for the head, then the tokens for the body', async () => {
    const body = formUrlEncodedContent([['code', await code()]]);
    const head = formatRequest({
      method: 'POST',
      target: '/swap',
      headers: [
        ['Content-Type', 'application/x-www-form-urlencoded'],
        ['Host', hostOf(stack.service.url)],
        ['Content-Length', String(body.length)],
        ['Expect', '100-continue'],
        ['Connection', 'Keep-Alive'],
      ],
      body: Buffer.alloc(0),
    });
    const response = await sendRaw(stack.service.url, head, { deferredBody: body, continueTimeoutMs: 5_000 });
    expect(response.interim).toEqual([100]);
    expectTokenResponse(response, true);
  });
});

describe('SpotifyAPI-NET TokenSwapRefreshRequest', () => {
  it('refreshes with the sealed token as the library escapes it, and gets no refresh_token back', async () => {
    const swapped = expectTokenResponse(await tokenSwapTokenRequest(stack, await code()), true);
    const response = await tokenSwapRefreshRequest(stack, swapped.refresh_token as string);
    const body = expectTokenResponse(response, false);
    // AuthorizationCodeRefreshResponse has no RefreshToken; Spotify did not rotate, so nothing is lost.
    expect(Object.keys(body)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'scope',
      'refresh_token_expires_in',
    ]);
  });

  it('refuses the refresh as the library docs once showed it (a TokenSwapTokenRequest to /refresh)', async () => {
    // SpotifyAPI.Docs/docs/token_swap.md refreshes with `new TokenSwapTokenRequest(".../refresh",
    // response.RefreshToken)`, which posts the refresh token as `code`.
    const swapped = expectTokenResponse(await tokenSwapTokenRequest(stack, await code()), true);
    const response = await dotnetPost(stack.service.url, '/refresh', [
      ['code', swapped.refresh_token as string],
    ]);
    expect(response.status).toBe(400);
    expect(apiExceptionMessage(response)).toBe('invalid_request');
    expect(response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'The refresh_token parameter is required',
    });
  });

  it('gets an error message from `error` for a token that is not one of ours', async () => {
    const response = await tokenSwapRefreshRequest(stack, 'AQD-a-token+with/escapes=');
    expect(response.status).toBe(400);
    expectDeserializable(response);
    expect(apiExceptionMessage(response)).toBe('invalid_grant');
  });
});

describe('SpotifyAPI-NET APITooManyRequestsException', () => {
  it("turns Spotify's HTTP-date Retry-After into whole seconds that int.Parse reads", async () => {
    const swapped = expectTokenResponse(await tokenSwapTokenRequest(stack, await code()), true);
    const retryAt = new Date(Date.now() + 30_000).toUTCString();
    await injectFault(stack.accounts.url, { kind: 'rate-limit', retryAfter: retryAt });
    const response = await tokenSwapRefreshRequest(stack, swapped.refresh_token as string);
    expect(response.status).toBe(429);
    expect(response.header('retry-after')).toMatch(/^\d+$/);
    const seconds = intParse(response.header('retry-after'));
    expect(seconds).toBeGreaterThanOrEqual(28);
    expect(seconds).toBeLessThanOrEqual(31);
    expectDeserializable(response);
    expect(apiExceptionMessage(response)).toBe('rate_limited');
  });

  it('turns a fractional Retry-After into whole seconds too', async () => {
    const swapped = expectTokenResponse(await tokenSwapTokenRequest(stack, await code()), true);
    await injectFault(stack.accounts.url, { kind: 'rate-limit', retryAfter: '2.5' });
    const response = await tokenSwapRefreshRequest(stack, swapped.refresh_token as string);
    expect(response.status).toBe(429);
    expect(response.header('retry-after')).toMatch(/^\d+$/);
    expect(intParse(response.header('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('does the same on the swap, where the code is not spent by the refused call', async () => {
    const fresh = await code();
    await injectFault(stack.accounts.url, {
      kind: 'rate-limit',
      retryAfter: new Date(Date.now() + 5_000).toUTCString(),
    });
    const refused = await tokenSwapTokenRequest(stack, fresh);
    expect(refused.status).toBe(429);
    expect(intParse(refused.header('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(apiExceptionMessage(refused)).toBe('rate_limited');
    expectTokenResponse(await tokenSwapTokenRequest(stack, fresh), true);
  });

  it("answers the service's own rate limit with digits too", async () => {
    const limited = await startStack({
      env: { ENCRYPTION_SECRET: SECRET_A, RATE_LIMIT_REFRESH_PER_MINUTE: '1' },
    });
    try {
      expect((await tokenSwapRefreshRequest(limited, 'AQx')).status).toBe(400);
      const response = await tokenSwapRefreshRequest(limited, 'AQx');
      expect(response.status).toBe(429);
      expect(response.header('retry-after')).toMatch(/^\d+$/);
      expect(intParse(response.header('retry-after'))).toBeGreaterThanOrEqual(1);
      expectDeserializable(response);
      expect(apiExceptionMessage(response)).toBe('rate_limited');
    } finally {
      await limited.close();
    }
  });
});

describe('SpotifyAPI-NET APIException', () => {
  it('finds a string `error` on every failure the service can answer', async () => {
    const swapped = expectTokenResponse(await tokenSwapTokenRequest(stack, await code()), true);
    const failures: [string, () => Promise<RawResponse>][] = [
      ['wrong path', () => dotnetPost(stack.service.url, '/token/swap', [['code', 'AQx']])],
      [
        'wrong method',
        () =>
          send(stack.service.url, {
            method: 'GET',
            target: '/swap',
            headers: [['Host', hostOf(stack.service.url)]],
            body: Buffer.alloc(0),
          }),
      ],
      ['empty code', () => dotnetPost(stack.service.url, '/swap', [['code', '']])],
      [
        'Spotify 503 with a plain-text body',
        async () => {
          // Twice: a refresh is retried once on a 5xx.
          await injectFault(stack.accounts.url, { kind: 'status', status: 503, count: 2 });
          return tokenSwapRefreshRequest(stack, swapped.refresh_token as string);
        },
      ],
      [
        'Spotify too slow',
        async () => {
          await injectFault(stack.accounts.url, { kind: 'slow', delayMs: 1_500 });
          return tokenSwapTokenRequest(stack, 'AQx');
        },
      ],
    ];
    const seen: [string, number, string | null][] = [];
    for (const [name, request] of failures) {
      const response = await request();
      expectDeserializable(response);
      seen.push([name, response.status, apiExceptionMessage(response)]);
    }
    expect(seen).toEqual([
      ['wrong path', 404, 'not_found'],
      ['wrong method', 405, 'method_not_allowed'],
      ['empty code', 400, 'invalid_request'],
      ['Spotify 503 with a plain-text body', 502, 'upstream_error'],
      ['Spotify too slow', 504, 'upstream_timeout'],
    ]);
  });
});
