import { describe, expect, it } from 'vitest';
import { OAuthError } from '../src/server/errors.js';
import { basicAuthorization, processTokenResponse, retryAfterSeconds } from '../src/server/upstream.js';

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

async function failure(response: Response): Promise<OAuthError> {
  const error = await processTokenResponse(response, Date.parse('2026-01-01T00:00:00Z')).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OAuthError);
  return error as OAuthError;
}

describe('processTokenResponse', () => {
  it('normalizes a success: numeric expires_in, default token_type and scope, no extra keys', async () => {
    const tokens = await processTokenResponse(
      json(200, { access_token: 'BQabc', expires_in: '3600', refresh_token: 'AQxyz', extra: 'dropped' }),
    );
    expect(tokens).toEqual({
      access_token: 'BQabc',
      token_type: 'Bearer',
      expires_in: 3600,
      scope: '',
      refresh_token: 'AQxyz',
    });
  });

  it('leaves refresh_token out when Spotify did not rotate it', async () => {
    const tokens = await processTokenResponse(
      json(200, { access_token: 'BQabc', token_type: 'Bearer', expires_in: 3600, scope: 'a b' }),
    );
    expect(tokens).not.toHaveProperty('refresh_token');
  });

  it('passes Spotify OAuth 4xx errors through with status and body', async () => {
    const error = await failure(
      json(400, { error: 'invalid_grant', error_description: 'Invalid authorization code' }),
    );
    expect([error.status, error.toJSON()]).toEqual([
      400,
      { error: 'invalid_grant', error_description: 'Invalid authorization code' },
    ]);
    const bare = await failure(json(400, { error: 'invalid_client' }));
    expect(bare.toJSON()).toEqual({ error: 'invalid_client' });
  });

  it.each([
    ['a 5xx with a plain-text body', new Response('upstream connect error', { status: 503 })],
    ['a 500 with a JSON body', json(500, { error: 'server_error' })],
    ['a 4xx that is not an OAuth error', new Response('<html>Bad</html>', { status: 404 })],
    ['a 200 that is not JSON', new Response('{"access_token": ', { status: 200 })],
    ['a 200 without access_token', json(200, { token_type: 'Bearer', expires_in: 3600 })],
    ['a 200 with a non-numeric expires_in', json(200, { access_token: 'x', expires_in: 'soon' })],
    ['a redirect', new Response(null, { status: 302, headers: { Location: 'https://example.com' } })],
  ])('maps %s to 502 upstream_error', async (_, response) => {
    const error = await failure(response);
    expect(error.status).toBe(502);
    expect(error.error).toBe('upstream_error');
  });

  it('maps 429 to 429 with Retry-After in whole seconds', async () => {
    const error = await failure(new Response('', { status: 429, headers: { 'Retry-After': '7' } }));
    expect(error.status).toBe(429);
    expect(error.headers['Retry-After']).toBe('7');
  });
});

describe('retryAfterSeconds', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delay-seconds and HTTP-dates, always as a whole number of at least 1', () => {
    expect(retryAfterSeconds('30', now)).toBe(30);
    // Date.parse('2.5') is a date in 2001: a fraction must be read as seconds, rounded up.
    expect(retryAfterSeconds('2.5', now)).toBe(3);
    expect(retryAfterSeconds('0', now)).toBe(1);
    expect(retryAfterSeconds('Thu, 01 Jan 2026 00:00:42 GMT', now)).toBe(42);
    expect(retryAfterSeconds('Thu, 01 Jan 2026 00:00:41 GMT', now + 500)).toBe(41);
    expect(retryAfterSeconds('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(1);
    expect(retryAfterSeconds(null, now)).toBe(5);
    expect(retryAfterSeconds('soon', now)).toBe(5);
    expect(retryAfterSeconds('99999999', now)).toBe(86_400);
  });
});

describe('basicAuthorization', () => {
  it('form-encodes id and secret before base64 (RFC 6749 §2.3.1)', () => {
    expect(basicAuthorization('id', 'secret')).toBe(`Basic ${btoa('id:secret')}`);
    expect(basicAuthorization('a:b', 'c d')).toBe(`Basic ${btoa('a%3Ab:c+d')}`);
  });
});
