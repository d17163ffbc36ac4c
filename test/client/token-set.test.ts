import { describe, expect, it } from 'vitest';
import { isExpired, secondsUntilExpiry, tokenSetFromResponse } from '../../src/client/index.js';

const response = {
  access_token: 'BQa',
  token_type: 'Bearer',
  expires_in: 3600,
  scope: 'a b',
  refresh_token: 'AQr',
};

describe('token set', () => {
  it('computes expiresAt from the time the answer was received', () => {
    const tokens = tokenSetFromResponse(response, 1_000_000);
    expect(tokens).toEqual({
      accessToken: 'BQa',
      tokenType: 'Bearer',
      scopes: ['a', 'b'],
      expiresAt: 1_000_000 + 3_600_000,
      refreshToken: 'AQr',
    });
    expect(secondsUntilExpiry(tokens, 1_000_000)).toBe(3600);
    expect(secondsUntilExpiry(tokens, 1_000_000 + 4_000_000)).toBe(0);
  });

  it('keeps the previous refresh token when a refresh returns none, and takes a rotated one', () => {
    const first = tokenSetFromResponse(response, 0);
    const { refresh_token: _, ...withoutRefresh } = response;
    expect(tokenSetFromResponse({ ...withoutRefresh, access_token: 'BQb' }, 10, first).refreshToken).toBe(
      'AQr',
    );
    expect(tokenSetFromResponse({ ...response, refresh_token: 'AQnew' }, 10, first).refreshToken).toBe(
      'AQnew',
    );
  });

  it('counts a token as expired one minute early by default, or with a given skew', () => {
    const tokens = tokenSetFromResponse(response, 0);
    expect(isExpired(tokens, undefined, 3_600_000 - 60_001)).toBe(false);
    expect(isExpired(tokens, undefined, 3_600_000 - 60_000)).toBe(true);
    expect(isExpired(tokens, 0, 3_599_999)).toBe(false);
    expect(isExpired(tokens, 0, 3_600_000)).toBe(true);
  });
});
