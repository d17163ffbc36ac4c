import { describe, expect, it } from 'vitest';
import { isExpired, secondsUntilExpiry, signInNeed, tokenSetFromResponse } from '../../src/client/index.js';

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

  it("knows the login's end from refresh_token_expires_in, keeps it when a refresh is silent, replaces it when one says", () => {
    const first = tokenSetFromResponse({ ...response, refresh_token_expires_in: 1_000 }, 5_000);
    expect(first.refreshTokenExpiresAt).toBe(5_000 + 1_000_000);
    const { refresh_token: _, ...refreshed } = response;
    expect(tokenSetFromResponse(refreshed, 9_000, first).refreshTokenExpiresAt).toBe(1_005_000);
    expect(
      tokenSetFromResponse({ ...refreshed, refresh_token_expires_in: 990 }, 9_000, first)
        .refreshTokenExpiresAt,
    ).toBe(999_000);
    // Never said: no end at all, rather than an invented one.
    expect('refreshTokenExpiresAt' in tokenSetFromResponse(response, 0)).toBe(false);
  });

  it('says a sign-in is needed soon in the last 14 days (or the given days), and ended at the end', () => {
    const DAY = 86_400_000;
    const tokens = tokenSetFromResponse({ ...response, refresh_token_expires_in: 100 * 86_400 }, 0);
    expect(signInNeed(tokenSetFromResponse(response, 0), 0)).toBe('unknown');
    expect(signInNeed(tokens, 86 * DAY - 1)).toBe('later');
    expect(signInNeed(tokens, 86 * DAY)).toBe('soon');
    expect(signInNeed(tokens, 100 * DAY - 1)).toBe('soon');
    expect(signInNeed(tokens, 100 * DAY)).toBe('ended');
    expect(signInNeed(tokens, 69 * DAY, 30)).toBe('later');
    expect(signInNeed(tokens, 70 * DAY, 30)).toBe('soon');
  });
});
