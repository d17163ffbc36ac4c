import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSandbox,
  SANDBOX_CLIENT_ID,
  SANDBOX_CLIENT_SECRET,
  SANDBOX_DEFAULT_REDIRECT_URIS,
} from '../src/sandbox/index.js';
import { type Listening, listen } from './helpers/listen.js';

const REDIRECT = 'http://127.0.0.1:8888/callback';
const BASIC = `Basic ${btoa(`${SANDBOX_CLIENT_ID}:${SANDBOX_CLIENT_SECRET}`)}`;

interface Minted {
  codes: string[];
  refreshTokens: string[];
}

describe('POST /__sandbox/mint', () => {
  let server: Listening;

  beforeAll(async () => {
    const sandbox = createSandbox({
      clients: [
        {
          clientId: SANDBOX_CLIENT_ID,
          clientSecret: SANDBOX_CLIENT_SECRET,
          redirectUris: SANDBOX_DEFAULT_REDIRECT_URIS,
        },
      ],
    });
    server = await listen(sandbox.app.fetch);
  });
  afterAll(() => server.close());

  function mint(body: unknown): Promise<Response> {
    return fetch(`${server.url}/__sandbox/mint`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  async function minted(body: unknown): Promise<Minted> {
    const res = await mint(body);
    expect(res.status).toBe(200);
    return (await res.json()) as Minted;
  }

  function token(params: Record<string, string>): Promise<Response> {
    return fetch(`${server.url}/api/token`, {
      method: 'POST',
      headers: { Authorization: BASIC, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params),
    });
  }

  it('mints codes that exchange exactly once, for the scopes and redirect URI they were minted with', async () => {
    const { codes, refreshTokens } = await minted({
      codes: 2,
      redirectUri: REDIRECT,
      scopes: ['user-read-email', 'user-read-private'],
    });
    expect(codes).toHaveLength(2);
    expect(refreshTokens).toEqual([]);
    const [code] = codes as [string];

    const first = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    expect(first.status).toBe(200);
    const tokens = (await first.json()) as Record<string, unknown>;
    expect(tokens.scope).toBe('user-read-email user-read-private');
    expect(tokens.refresh_token).toMatch(/^AQ/);

    const again = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    expect(again.status).toBe(400);
    expect(await again.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid authorization code',
    });
  });

  it('binds a minted code to its redirect URI, as /authorize does', async () => {
    const { codes } = await minted({ codes: 1, redirectUri: REDIRECT });
    const res = await token({
      grant_type: 'authorization_code',
      code: codes[0] ?? '',
      redirect_uri: 'http://127.0.0.1:9999/callback',
    });
    expect(await res.json()).toEqual({ error: 'invalid_grant', error_description: 'Invalid redirect URI' });
  });

  it('mints refresh tokens that refresh, without rotating', async () => {
    const { codes, refreshTokens } = await minted({ refreshTokens: 2, scopes: ['user-read-email'] });
    expect(codes).toEqual([]);
    expect(refreshTokens).toHaveLength(2);
    for (const refreshToken of refreshTokens) {
      const res = await token({ grant_type: 'refresh_token', refresh_token: refreshToken });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body.access_token).toMatch(/^BQ/);
      expect(body.scope).toBe('user-read-email');
      expect(body).not.toHaveProperty('refresh_token');
    }
  });

  it('mints in bulk, every code and token distinct', async () => {
    const { codes, refreshTokens } = await minted({
      codes: 20_000,
      refreshTokens: 2_000,
      redirectUri: REDIRECT,
    });
    expect(new Set(codes).size).toBe(20_000);
    expect(new Set(refreshTokens).size).toBe(2_000);
  });

  it.each([
    ['a body that is not JSON', '{"codes":', 'body must be a JSON object'],
    ['an array', [], 'body must be a JSON object'],
    [
      'a negative count',
      { codes: -1, redirectUri: REDIRECT },
      'codes must be a whole number from 0 to 50000',
    ],
    ['a fractional count', { refreshTokens: 1.5 }, 'refreshTokens must be a whole number from 0 to 50000'],
    ['too many', { codes: 50_001, redirectUri: REDIRECT }, 'codes must be a whole number from 0 to 50000'],
    ['a count as a string', { codes: '10', redirectUri: REDIRECT }, 'codes must be a whole number'],
    [
      'an unknown client',
      { codes: 1, redirectUri: REDIRECT, clientId: 'nope' },
      'clientId must be a registered',
    ],
    ['codes without a redirect URI', { codes: 1 }, 'redirectUri is required to mint codes'],
    [
      'an unregistered redirect URI',
      { codes: 1, redirectUri: 'https://example.com/cb' },
      'registered for the client',
    ],
    [
      'a localhost redirect URI',
      { codes: 1, redirectUri: 'http://localhost:8888/callback' },
      'redirectUri must be',
    ],
    [
      'an unknown scope',
      { refreshTokens: 1, scopes: ['user-read-email', 'admin'] },
      'scopes must be an array',
    ],
    ['scopes as a string', { refreshTokens: 1, scopes: 'user-read-email' }, 'scopes must be an array'],
  ])('refuses %s with a 400 JSON error', async (_name, body, description) => {
    const res = await mint(body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/json');
    const error = (await res.json()) as { error: string; error_description: string };
    expect(error.error).toBe('invalid_mint');
    expect(error.error_description).toContain(description);
  });
});

describe('POST /__sandbox/mint with several registered clients', () => {
  let server: Listening;

  beforeAll(async () => {
    const sandbox = createSandbox({
      clients: [
        { clientId: 'app-one', clientSecret: 'secret-one', redirectUris: SANDBOX_DEFAULT_REDIRECT_URIS },
        { clientId: 'app-two', clientSecret: 'secret-two', redirectUris: ['myapp://callback'] },
      ],
    });
    server = await listen(sandbox.app.fetch);
  });
  afterAll(() => server.close());

  const mint = (body: unknown) =>
    fetch(`${server.url}/__sandbox/mint`, { method: 'POST', body: JSON.stringify(body) });

  it('needs the clientId, and binds the codes to that client', async () => {
    const missing = await mint({ codes: 1, redirectUri: 'myapp://callback' });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error_description: string }).error_description).toBe(
      'clientId is required when several clients are registered',
    );

    const res = await mint({ codes: 2, redirectUri: 'myapp://callback', clientId: 'app-two' });
    const [theirs, mine] = ((await res.json()) as Minted).codes as [string, string];
    const exchange = (code: string, clientId: string, secret: string) =>
      fetch(`${server.url}/api/token`, {
        method: 'POST',
        headers: {
          Authorization: `Basic ${btoa(`${clientId}:${secret}`)}`,
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: 'myapp://callback',
        }),
      });
    expect((await exchange(theirs, 'app-one', 'secret-one')).status).toBe(400);
    expect((await exchange(mine, 'app-two', 'secret-two')).status).toBe(200);
  });
});
