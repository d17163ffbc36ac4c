import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pkceChallenge, randomToken } from '../src/shared/encoding.js';
import { injectFault, tokenCalls } from './helpers/sandbox-control.js';
import {
  authorize,
  CLIENT_ID,
  postForm,
  postJson,
  REDIRECT_URI,
  type Stack,
  startStack,
  UNSEALED,
} from './helpers/stack.js';

let stack: Stack;
let service: string;
let accounts: string;

beforeAll(async () => {
  // Unsealed: most cases send made-up refresh tokens that must reach the fake Accounts.
  stack = await startStack({ env: UNSEALED });
  service = stack.service.url;
  accounts = stack.accounts.url;
});
afterAll(() => stack.close());

async function expectTokenHeaders(response: Response) {
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('pragma')).toBe('no-cache');
}

async function expectError(response: Response, status: number, error: string, description?: string | RegExp) {
  expect(response.status).toBe(status);
  await expectTokenHeaders(response);
  const body = (await response.json()) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(
    body.error_description === undefined ? ['error'] : ['error', 'error_description'],
  );
  expect(body.error).toBe(error);
  if (description instanceof RegExp) {
    expect(body.error_description).toMatch(description);
  } else if (description !== undefined) {
    expect(body.error_description).toBe(description);
  }
  return body;
}

async function swap(fields: Record<string, string> = {}) {
  const { code } = await authorize(accounts);
  return postForm(`${service}/swap`, { code, redirect_uri: REDIRECT_URI, ...fields });
}

describe('POST /swap', () => {
  it('exchanges a code for tokens with the exact contract clients need', async () => {
    const response = await swap();
    expect(response.status).toBe(200);
    await expectTokenHeaders(response);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'scope',
      'refresh_token',
      'refresh_token_expires_in',
    ]);
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(3600);
    expect(typeof body.expires_in).toBe('number');
    expect(body.scope).toBe('user-read-email user-read-private');
    expect(typeof body.refresh_token).toBe('string');
  });

  it('calls Spotify with Basic auth and a form body, never with a code or token in the URL', async () => {
    const { code } = await authorize(accounts);
    await postJson(`${service}/swap`, { code, code_verifier: randomToken(48), extra: 'ignored' });
    const swapCall = stack.sandbox.stats().lastTokenRequest;
    expect(swapCall).toEqual({
      grantType: 'authorization_code',
      hadBasicAuth: true,
      contentType: 'application/x-www-form-urlencoded',
      params: ['grant_type', 'code', 'redirect_uri', 'code_verifier'],
      queryParams: [],
    });
    await postForm(`${service}/refresh`, { refresh_token: 'AQsomething', client_id: 'x' });
    expect(stack.sandbox.stats().lastTokenRequest).toEqual({
      grantType: 'refresh_token',
      hadBasicAuth: true,
      contentType: 'application/x-www-form-urlencoded',
      params: ['grant_type', 'refresh_token'],
      queryParams: [],
    });
  });

  it('answers on the /api/token alias and accepts a JSON body', async () => {
    const { code } = await authorize(accounts);
    const response = await postJson(`${service}/api/token`, { code, redirect_uri: REDIRECT_URI });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { access_token: string }).access_token).toMatch(/^BQ/);
  });

  it('accepts form content types with a charset and ignores unknown fields (iOS SDK extras)', async () => {
    const { code } = await authorize(accounts);
    const response = await fetch(`${service}/swap`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      body: new URLSearchParams({ code, client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, foo: 'bar' }),
    });
    expect(response.status).toBe(200);
  });

  it('uses the configured default redirect URI when the client sends none', async () => {
    const { code } = await authorize(accounts);
    expect((await postForm(`${service}/swap`, { code })).status).toBe(200);
  });

  it('forwards a client redirect URI on the allowlist, including a loopback one on any port', async () => {
    const redirect = 'http://127.0.0.1:54321/any-port';
    const { code } = await authorize(accounts, { redirect_uri: redirect });
    expect((await postForm(`${service}/swap`, { code, redirect_uri: redirect })).status).toBe(200);
  });

  it('sends the default instead of a redirect URI that is not on the allowlist, so Spotify decides', async () => {
    const { code } = await authorize(accounts, { redirect_uri: 'myapp://callback' });
    // Not on the allowlist: the default goes upstream, which does not match what /authorize got.
    const response = await postForm(`${service}/swap`, { code, redirect_uri: 'https://evil.example/cb' });
    await expectError(response, 400, 'invalid_grant', 'Invalid redirect URI');
  });

  it('forwards code_verifier so PKCE codes can be exchanged', async () => {
    const verifier = randomToken(48);
    const challenge = await pkceChallenge(verifier);
    const pkce = { code_challenge: challenge, code_challenge_method: 'S256' };
    const first = await authorize(accounts, pkce);
    const ok = await postForm(`${service}/swap`, { code: first.code, code_verifier: verifier });
    expect(ok.status).toBe(200);

    const second = await authorize(accounts, pkce);
    const missing = await postForm(`${service}/swap`, { code: second.code });
    await expectError(missing, 400, 'invalid_request', 'code_verifier required');

    const third = await authorize(accounts, pkce);
    const wrong = await postForm(`${service}/swap`, { code: third.code, code_verifier: randomToken(48) });
    await expectError(wrong, 400, 'invalid_grant', 'code_verifier was incorrect');
  });

  it("passes Spotify's error through for a reused code, and never retries the exchange", async () => {
    const { code } = await authorize(accounts);
    expect((await postForm(`${service}/swap`, { code })).status).toBe(200);
    const before = await tokenCalls(accounts);
    await expectError(
      await postForm(`${service}/swap`, { code }),
      400,
      'invalid_grant',
      'Invalid authorization code',
    );
    expect(await tokenCalls(accounts)).toBe(before + 1);
  });
});

describe('invalid input is refused without calling Spotify', () => {
  const cases: [string, () => Promise<Response>, number, string][] = [
    ['a missing code', () => postForm(`${service}/swap`, {}), 400, 'invalid_request'],
    ['an empty code', () => postForm(`${service}/swap`, { code: '' }), 400, 'invalid_request'],
    ['a code with spaces', () => postForm(`${service}/swap`, { code: 'a b' }), 400, 'invalid_request'],
    [
      'a malformed code_verifier',
      () => postForm(`${service}/swap`, { code: 'x', code_verifier: 'short' }),
      400,
      'invalid_request',
    ],
    [
      'a repeated code',
      () =>
        fetch(`${service}/swap`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: 'code=a&code=b',
        }),
      400,
      'invalid_request',
    ],
    [
      'a repeated code in JSON',
      () => postJson(`${service}/swap`, { code: ['a', 'b'] }),
      400,
      'invalid_request',
    ],
    ['a missing refresh_token', () => postForm(`${service}/refresh`, {}), 400, 'invalid_request'],
    [
      'a repeated refresh_token',
      () =>
        fetch(`${service}/refresh`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: 'refresh_token=a&refresh_token=a',
        }),
      400,
      'invalid_request',
    ],
    [
      'malformed JSON',
      () =>
        fetch(`${service}/swap`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '{"code":',
        }),
      400,
      'invalid_request',
    ],
    ['a JSON array body', () => postJson(`${service}/swap`, ['code']), 400, 'invalid_request'],
    [
      'a code repeated as a duplicate JSON key (JSON as strict as a form)',
      () =>
        fetch(`${service}/swap`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '{"code":"a","code":"b"}',
        }),
      400,
      'invalid_request',
    ],
    [
      'a code that is a JSON object, not a string (never stringified and sent on)',
      () => postJson(`${service}/swap`, { code: { a: 1 } }),
      400,
      'invalid_request',
    ],
    [
      'a code that is a JSON number',
      () => postJson(`${service}/swap`, { code: 12345 }),
      400,
      'invalid_request',
    ],
    [
      'a refresh_token that is a JSON boolean',
      () => postJson(`${service}/refresh`, { refresh_token: true }),
      400,
      'invalid_request',
    ],
    [
      'a text/plain body',
      () =>
        fetch(`${service}/swap`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain' },
          body: 'code=abc',
        }),
      415,
      'invalid_request',
    ],
    [
      'a multipart body',
      () => {
        const form = new FormData();
        form.set('code', 'abc');
        return fetch(`${service}/swap`, { method: 'POST', body: form });
      },
      415,
      'invalid_request',
    ],
    [
      'a body over the limit',
      () => postForm(`${service}/swap`, { code: 'x', pad: 'y'.repeat(9000) }),
      413,
      'invalid_request',
    ],
    [
      'a chunked body over the limit',
      () =>
        fetch(`${service}/refresh`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new Blob([`refresh_token=${'z'.repeat(20_000)}`]).stream(),
          duplex: 'half',
        } as RequestInit),
      413,
      'invalid_request',
    ],
  ];

  it.each(cases)('%s', async (_, send, status, error) => {
    const before = await tokenCalls(accounts);
    const response = await send();
    await expectError(response, status, error, /./);
    expect(await tokenCalls(accounts)).toBe(before);
  });
});

describe('POST /refresh', () => {
  it('refreshes and leaves refresh_token out when Spotify did not rotate it', async () => {
    const tokens = (await (await swap()).json()) as { refresh_token: string; access_token: string };
    const response = await postForm(`${service}/refresh`, { refresh_token: tokens.refresh_token });
    expect(response.status).toBe(200);
    await expectTokenHeaders(response);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['access_token', 'token_type', 'expires_in', 'scope']);
    // Unsealed, the service cannot know when the login began, so it does not say when it ends.
    expect(body.access_token).not.toBe(tokens.access_token);
    expect(body.expires_in).toBe(3600);
  });

  it('answers on the /api/refresh_token alias and takes JSON', async () => {
    const tokens = (await (await swap()).json()) as { refresh_token: string };
    const response = await postJson(`${service}/api/refresh_token`, { refresh_token: tokens.refresh_token });
    expect(response.status).toBe(200);
  });

  it("passes Spotify's invalid_grant through for an unknown refresh token", async () => {
    const response = await postForm(`${service}/refresh`, { refresh_token: 'AQunknown' });
    await expectError(response, 400, 'invalid_grant', 'Invalid refresh token');
  });
});

describe('routing', () => {
  it('describes itself at GET / so a person who opens the URL sees it works', async () => {
    const response = await fetch(`${service}/`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { service: string; endpoints: Record<string, string> };
    expect(body.service).toBe('spotify-token-swap');
    expect(Object.keys(body.endpoints)).toEqual(
      expect.arrayContaining(['POST /swap', 'POST /refresh', 'POST /api/token', 'POST /api/refresh_token']),
    );
  });

  it('answers GET /healthz', async () => {
    const response = await fetch(`${service}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers an unknown path with JSON 404', async () => {
    await expectError(await fetch(`${service}/nope`), 404, 'not_found');
    await expectError(await postForm(`${service}/api/tokens`, { code: 'x' }), 404, 'not_found');
  });

  it('answers a wrong method with JSON 405 and an Allow header', async () => {
    for (const path of ['/swap', '/refresh', '/api/token', '/api/refresh_token']) {
      const response = await fetch(`${service}${path}`);
      // No CORS origins in this stack: OPTIONS is not allowed either.
      expect(response.headers.get('allow')).toBe('POST');
      await expectError(response, 405, 'method_not_allowed');
    }
    await expectError(await fetch(`${service}/swap`, { method: 'PUT' }), 405, 'method_not_allowed');
  });

  it('returns a request id, and keeps a sane one the client sent', async () => {
    const generated = await fetch(`${service}/healthz`);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await fetch(`${service}/healthz`, { headers: { 'X-Request-Id': 'client-id.123' } });
    expect(kept.headers.get('x-request-id')).toBe('client-id.123');
    const replaced = await fetch(`${service}/healthz`, {
      headers: { 'X-Request-Id': 'bad id\twith spaces' },
    });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('upstream faults', () => {
  async function stillServes() {
    expect((await swap()).status).toBe(200);
  }

  it('maps a plain-text 503 to 502 and keeps serving', async () => {
    await injectFault(accounts, { kind: 'status', status: 503 });
    await expectError(await swap(), 502, 'upstream_error', /503/);
    await stillServes();
  });

  it('maps a 500 with a JSON body to 502', async () => {
    await injectFault(accounts, {
      kind: 'status',
      status: 500,
      body: '{"error":"server_error"}',
      contentType: 'application/json',
    });
    await expectError(await swap(), 502, 'upstream_error');
    await stillServes();
  });

  it('maps a dropped connection to 502 and keeps serving', async () => {
    await injectFault(accounts, { kind: 'drop' });
    await expectError(await swap(), 502, 'upstream_error', 'Could not reach Spotify Accounts');
    await stillServes();
  });

  it('maps a 200 whose body is not JSON to 502', async () => {
    await injectFault(accounts, { kind: 'garbage' });
    await expectError(await swap(), 502, 'upstream_error');
    await stillServes();
  });

  it('maps an upstream timeout to 504 and keeps serving', async () => {
    // An answer 4 s away against a timeout of 1 s: the 504 comes within 3 s, with room for a
    // loaded machine (a 1.5 s fault left half a second).
    await injectFault(accounts, { kind: 'slow', delayMs: 4_000 });
    const started = Date.now();
    await expectError(await swap(), 504, 'upstream_timeout', /1000 ms/);
    expect(Date.now() - started).toBeLessThan(3_000);
    await stillServes();
  });

  it('maps 429 to 429 with Retry-After in whole seconds, from seconds or an HTTP date', async () => {
    await injectFault(accounts, { kind: 'rate-limit', retryAfter: 12 });
    const seconds = await swap();
    expect(seconds.headers.get('retry-after')).toBe('12');
    await expectError(seconds, 429, 'rate_limited', /12 seconds/);

    const date = new Date(Date.now() + 30_000).toUTCString();
    await injectFault(accounts, { kind: 'rate-limit', retryAfter: date });
    const fromDate = await postForm(`${service}/refresh`, { refresh_token: 'AQwhatever' });
    expect(fromDate.status).toBe(429);
    expect(fromDate.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(Number(fromDate.headers.get('retry-after'))).toBeGreaterThanOrEqual(28);
    expect(Number(fromDate.headers.get('retry-after'))).toBeLessThanOrEqual(31);
    await stillServes();
  });

  it('never retries a code exchange after a failure', async () => {
    await injectFault(accounts, { kind: 'status', status: 502 });
    const before = await tokenCalls(accounts);
    expect((await swap()).status).toBe(502);
    expect(await tokenCalls(accounts)).toBe(before + 1);
  });
});
