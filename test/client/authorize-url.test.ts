import { describe, expect, it } from 'vitest';
import { createAuthorizeUrl } from '../../src/client/index.js';
import { pkceChallenge } from '../../src/shared/encoding.js';

const base = { clientId: 'abc123', redirectUri: 'http://127.0.0.1:43210/callback' };

describe('createAuthorizeUrl', () => {
  it("builds Spotify's authorize URL with code flow, state and a PKCE S256 challenge", async () => {
    const request = await createAuthorizeUrl({ ...base, scopes: ['user-read-email', 'streaming'] });
    const url = new URL(request.url);
    expect(url.origin + url.pathname).toBe('https://accounts.spotify.com/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'abc123',
      response_type: 'code',
      redirect_uri: base.redirectUri,
      state: request.state,
      code_challenge_method: 'S256',
      code_challenge: await pkceChallenge(request.codeVerifier),
      scope: 'user-read-email streaming',
    });
    expect(request.redirectUri).toBe(base.redirectUri);
  });

  it('makes a verifier RFC 7636 accepts and an unguessable state', async () => {
    const request = await createAuthorizeUrl(base);
    expect(request.codeVerifier).toMatch(/^[A-Za-z0-9\-._~]{43,128}$/);
    expect(request.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('never reuses state or verifier', async () => {
    const requests = await Promise.all(Array.from({ length: 50 }, () => createAuthorizeUrl(base)));
    expect(new Set(requests.map((r) => r.state)).size).toBe(50);
    expect(new Set(requests.map((r) => r.codeVerifier)).size).toBe(50);
  });

  it('adds show_dialog on request, omits an empty scope, dedupes scopes, and takes another Accounts URL', async () => {
    const request = await createAuthorizeUrl({
      ...base,
      scopes: ['streaming', 'streaming'],
      showDialog: true,
      accountsUrl: 'http://127.0.0.1:3000/sandbox/',
    });
    const url = new URL(request.url);
    expect(url.href.startsWith('http://127.0.0.1:3000/sandbox/authorize?')).toBe(true);
    expect(url.searchParams.get('show_dialog')).toBe('true');
    expect(url.searchParams.get('scope')).toBe('streaming');
    const bare = new URL((await createAuthorizeUrl(base)).url);
    expect(bare.searchParams.has('scope')).toBe(false);
    expect(bare.searchParams.has('show_dialog')).toBe(false);
  });
});
