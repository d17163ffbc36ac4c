import { describe, expect, it } from 'vitest';
import { checkRedirectUri, findRedirectUri, redirectUriMatches } from '../src/shared/redirect-uri.js';

describe('checkRedirectUri (Spotify 2025 rules)', () => {
  it.each([
    'https://example.com/callback',
    'http://127.0.0.1/callback',
    'http://127.0.0.1:8888/callback',
    'http://[::1]:8888/callback',
    'myapp://callback',
    'com.example.app:/oauth',
  ])('accepts %s', (uri) => {
    expect(checkRedirectUri(uri)).toEqual({ ok: true });
  });

  it.each([
    ['http://localhost:8888/callback', 'localhost'],
    ['https://localhost/callback', 'localhost'],
    ['http://example.com/callback', 'insecure'],
    ['http://192.168.1.2/callback', 'insecure'],
    ['not a uri', 'invalid'],
    ['https://example.com/cb#frag', 'invalid'],
    ['javascript://alert(1)', 'invalid'],
  ])('refuses %s as %s', (uri, problem) => {
    const verdict = checkRedirectUri(uri);
    expect(verdict.ok).toBe(false);
    expect(verdict.problem).toBe(problem);
    expect(verdict.reason).toContain(uri);
  });
});

describe('redirectUriMatches', () => {
  it('lets a loopback URI registered without a port match any port (RFC 8252 §7.3)', () => {
    expect(redirectUriMatches('http://127.0.0.1/callback', 'http://127.0.0.1:51234/callback')).toBe(true);
    expect(redirectUriMatches('http://[::1]/callback', 'http://[::1]:8080/callback')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1/callback', 'http://127.0.0.1/callback')).toBe(true);
  });

  it('keeps path, case, trailing slash and host exact for port-less loopback entries', () => {
    expect(redirectUriMatches('http://127.0.0.1/callback', 'http://127.0.0.1:5000/callback/')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/callback', 'http://127.0.0.1:5000/Callback')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/callback', 'http://[::1]:5000/callback')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/callback', 'http://127.0.0.1:5000/callback?x=1')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/callback', 'http://127.0.0.1:5000/callback#x')).toBe(false);
  });

  it('matches an entry with a port, or a non-loopback entry, exactly', () => {
    expect(redirectUriMatches('http://127.0.0.1:8888/callback', 'http://127.0.0.1:9999/callback')).toBe(
      false,
    );
    expect(redirectUriMatches('http://127.0.0.1:80/callback', 'http://127.0.0.1:81/callback')).toBe(false);
    expect(redirectUriMatches('https://example.com/cb', 'https://example.com/cb/')).toBe(false);
    expect(redirectUriMatches('https://example.com/cb', 'https://EXAMPLE.com/cb')).toBe(false);
    expect(redirectUriMatches('myapp://callback', 'myapp://callback')).toBe(true);
  });

  it('finds the allowlist entry a requested URI matches', () => {
    const allowlist = ['https://example.com/cb', 'http://127.0.0.1/callback'];
    expect(findRedirectUri(allowlist, 'http://127.0.0.1:4000/callback')).toBe('http://127.0.0.1/callback');
    expect(findRedirectUri(allowlist, 'http://localhost:4000/callback')).toBeUndefined();
  });
});
