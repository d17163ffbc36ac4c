/**
 * The token pipeline's pure halves, on hand-built answers: the one parser of token endpoint answers
 * (shared by the service and the client kit), the policy that decides what each outcome means, and
 * the circuit breaker's permits.
 */
import { describe, expect, it } from 'vitest';
import { OAuthError } from '../src/server/errors.js';
import { createCircuitBreaker } from '../src/server/upstream/breaker.js';
import { answerFor, isUpstreamFailure, shouldRetry } from '../src/server/upstream/policy.js';
import { basicAuthorization, type UpstreamResult } from '../src/server/upstream/token-request.js';
import {
  MAX_EXPIRES_IN_SECONDS,
  parseTokenResponse,
  retryAfterSeconds,
  type TokenOutcome,
} from '../src/shared/token-response.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');

function parse(status: number, body: unknown, headers: Record<string, string> = {}): TokenOutcome {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return parseTokenResponse({ status, headers: new Headers(headers) }, text, NOW);
}

describe('parseTokenResponse', () => {
  it('normalizes a success: numeric expires_in, default token_type and scope, no extra keys', () => {
    expect(
      parse(200, { access_token: 'BQabc', expires_in: '3600', refresh_token: 'AQxyz', extra: 1 }),
    ).toEqual({
      kind: 'ok',
      status: 200,
      tokens: {
        access_token: 'BQabc',
        token_type: 'Bearer',
        expires_in: 3600,
        scope: '',
        refresh_token: 'AQxyz',
      },
    });
  });

  it('leaves refresh_token out when none came, or an empty one', () => {
    for (const refresh_token of [undefined, '']) {
      const outcome = parse(200, { access_token: 'BQabc', expires_in: 3600, scope: 'a b', refresh_token });
      expect(outcome.kind === 'ok' && outcome.tokens).not.toHaveProperty('refresh_token');
    }
  });

  it('reports an OAuth 4xx with its status, code and description', () => {
    expect(parse(400, { error: 'invalid_grant', error_description: 'Invalid authorization code' })).toEqual({
      kind: 'oauth_error',
      status: 400,
      error: 'invalid_grant',
      description: 'Invalid authorization code',
    });
    expect(parse(400, { error: 'invalid_client' })).toMatchObject({
      kind: 'oauth_error',
      description: undefined,
    });
  });

  it('reports a 429 with its Retry-After in whole seconds, and a 5xx with any OAuth error it carries', () => {
    expect(parse(429, '', { 'Retry-After': '7' })).toMatchObject({ kind: 'rate_limited', retryAfter: 7 });
    expect(parse(503, 'upstream connect error', {})).toEqual({
      kind: 'server_error',
      status: 503,
      retryAfter: undefined,
    });
    expect(parse(503, { error: 'temporarily_unavailable' }, { 'Retry-After': '2' })).toMatchObject({
      kind: 'server_error',
      retryAfter: 2,
      error: 'temporarily_unavailable',
    });
  });

  it.each([
    ['a 4xx that is not an OAuth error', 404, '<html>Bad</html>', 'HTTP 404 without an OAuth error'],
    ['a 200 that is not JSON', 200, '{"access_token": ', 'with a body that is not JSON'],
    ['a 200 without access_token', 200, { token_type: 'Bearer', expires_in: 3600 }, '(access_token)'],
    ['an empty access_token', 200, { access_token: '', expires_in: 3600 }, '(access_token)'],
    ['a non-numeric expires_in', 200, { access_token: 'x', expires_in: 'soon' }, '(expires_in)'],
    ['a negative expires_in', 200, { access_token: 'x', expires_in: -1 }, '(expires_in)'],
    ['a fractional expires_in', 200, { access_token: 'x', expires_in: 1.5 }, '(expires_in)'],
    ['a huge expires_in', 200, { access_token: 'x', expires_in: 1e306 }, '(expires_in)'],
    [
      'a token with a control character',
      200,
      { access_token: 'x\u001b[2J', expires_in: 1 },
      '(access_token)',
    ],
    [
      'a refresh token with a newline',
      200,
      { access_token: 'x', expires_in: 1, refresh_token: 'a\nb' },
      '(refresh_token)',
    ],
    [
      'a scope with a control character',
      200,
      { access_token: 'x', expires_in: 1, scope: 'a\u0007' },
      '(scope)',
    ],
    ['a redirect', 302, '', 'HTTP 302'],
  ])('reports %s as an invalid response', (_, status, body, reason) => {
    const outcome = parse(status, body);
    expect(outcome.kind).toBe('invalid_response');
    expect(outcome.kind === 'invalid_response' && outcome.reason).toContain(reason);
  });

  it('accepts the longest lifetime it allows, and keeps error descriptions free of control characters', () => {
    expect(parse(200, { access_token: 'x', expires_in: MAX_EXPIRES_IN_SECONDS })).toMatchObject({
      kind: 'ok',
    });
    expect(parse(400, { error: 'invalid_grant', error_description: 'bad\u001b[31m' })).toMatchObject({
      kind: 'oauth_error',
      description: undefined,
    });
  });
});

describe('retryAfterSeconds', () => {
  it('reads delay-seconds and HTTP-dates, always as a whole number of at least 1', () => {
    expect(retryAfterSeconds('30', NOW)).toBe(30);
    // Date.parse('2.5') is a date in 2001: a fraction must be read as seconds, rounded up.
    expect(retryAfterSeconds('2.5', NOW)).toBe(3);
    expect(retryAfterSeconds('0', NOW)).toBe(1);
    expect(retryAfterSeconds('Thu, 01 Jan 2026 00:00:42 GMT', NOW)).toBe(42);
    expect(retryAfterSeconds('Thu, 01 Jan 2026 00:00:41 GMT', NOW + 500)).toBe(41);
    expect(retryAfterSeconds('Wed, 31 Dec 2025 23:00:00 GMT', NOW)).toBe(1);
    expect(retryAfterSeconds(null, NOW)).toBe(5);
    expect(retryAfterSeconds('soon', NOW)).toBe(5);
    expect(retryAfterSeconds('99999999', NOW)).toBe(86_400);
  });
});

describe('policy', () => {
  const results: Record<string, UpstreamResult> = {
    ok: {
      kind: 'ok',
      status: 200,
      tokens: { access_token: 'a', token_type: 'Bearer', expires_in: 1, scope: '' },
    },
    oauth: { kind: 'oauth_error', status: 400, error: 'invalid_grant', description: 'Invalid refresh token' },
    limited: { kind: 'rate_limited', status: 429, retryAfter: 9 },
    s500: { kind: 'server_error', status: 500, retryAfter: undefined },
    s503: { kind: 'server_error', status: 503, retryAfter: undefined },
    garbage: { kind: 'invalid_response', status: 200, reason: 'with a body that is not JSON' },
    html404: { kind: 'invalid_response', status: 404, reason: 'HTTP 404 without an OAuth error' },
    timeout: { kind: 'timeout' },
    refused: { kind: 'network_error', requestSent: false },
    reset: { kind: 'network_error', requestSent: true },
  };
  const retried = (grant: 'authorization_code' | 'refresh_token') =>
    Object.entries(results)
      .filter(([, result]) => shouldRetry(grant, result, 1))
      .map(([name]) => name);

  it('retries a code exchange only when the request never left, a refresh once on network errors and 502-504', () => {
    expect(retried('authorization_code')).toEqual(['refused']);
    expect(retried('refresh_token')).toEqual(['s503', 'refused', 'reset']);
    expect(shouldRetry('refresh_token', results.s503 as UpstreamResult, 2)).toBe(false);
  });

  it('counts timeouts, network errors, 5xx and nonsense against the upstream, never a 4xx', () => {
    const failures = Object.entries(results).filter(([, result]) => isUpstreamFailure(result));
    expect(failures.map(([name]) => name)).toEqual([
      's500',
      's503',
      'garbage',
      'timeout',
      'refused',
      'reset',
    ]);
  });

  it('answers the client as the README documents', () => {
    const answer = (name: string) => answerFor(results[name] as UpstreamResult, 1000);
    expect(answer('ok')).toMatchObject({ access_token: 'a' });
    const errors = ['oauth', 'limited', 's500', 'garbage', 'timeout', 'refused'].map((name) => {
      const error = answer(name) as OAuthError;
      expect(error).toBeInstanceOf(OAuthError);
      return [error.status, error.error, error.headers['Retry-After']];
    });
    expect(errors).toEqual([
      [400, 'invalid_grant', undefined],
      [429, 'rate_limited', '9'],
      [502, 'upstream_error', undefined],
      [502, 'upstream_error', undefined],
      [504, 'upstream_timeout', undefined],
      [502, 'upstream_error', undefined],
    ]);
  });
});

describe('circuit breaker permits', () => {
  const breaker = (now: { t: number }) =>
    createCircuitBreaker({ failureThreshold: 2, cooldownMs: 1000, now: () => now.t });

  it('gives the half-open probe slot back when the probe never reached Spotify', () => {
    const now = { t: 0 };
    const b = breaker(now);
    b.admit().failure();
    b.admit().failure();
    expect(b.state()).toBe('open');
    now.t = 1000;
    const probe = b.admit();
    expect(b.state()).toBe('half_open');
    // A second call while the probe is out is refused...
    expect(() => b.admit()).toThrow(OAuthError);
    // ...and once the probe is released without a verdict (say the concurrency cap refused it), the
    // next call is the probe instead of waiting for a verdict that will never come.
    probe.release();
    const next = b.admit();
    next.success();
    expect(b.state()).toBe('closed');
  });

  it('counts a verdict once, however often the permit is settled or released', () => {
    const now = { t: 0 };
    const b = breaker(now);
    const permit = b.admit();
    permit.failure();
    permit.failure();
    permit.release();
    expect(b.state()).toBe('closed');
    b.admit().failure();
    expect(b.state()).toBe('open');
  });
});

describe('basicAuthorization', () => {
  it('form-encodes id and secret before base64 (RFC 6749 §2.3.1)', () => {
    expect(basicAuthorization('id', 'secret')).toBe(`Basic ${btoa('id:secret')}`);
    expect(basicAuthorization('a:b', 'c d')).toBe(`Basic ${btoa('a%3Ab:c+d')}`);
  });
});
