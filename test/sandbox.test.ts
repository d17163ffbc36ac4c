import { Hono } from 'hono';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createSandbox,
  SANDBOX_CLIENT_ID,
  SANDBOX_CLIENT_SECRET,
  SANDBOX_DEFAULT_REDIRECT_URIS,
  type Sandbox,
  type SandboxClient,
} from '../src/sandbox/index.js';
import { pkceChallenge, randomToken } from '../src/shared/encoding.js';
import { type Listening, listen } from './helpers/listen.js';

const START = Date.UTC(2026, 0, 15, 12, 0, 0);
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const DEFAULT_CLIENT: SandboxClient = {
  clientId: SANDBOX_CLIENT_ID,
  clientSecret: SANDBOX_CLIENT_SECRET,
  redirectUris: SANDBOX_DEFAULT_REDIRECT_URIS,
};
const OTHER_CLIENT: SandboxClient = {
  clientId: 'other-client-id',
  clientSecret: 'other-client-secret-not-for-production',
  redirectUris: ['http://127.0.0.1/callback'],
};
/** Registered before November 2025, when Spotify still accepted these. */
const LEGACY_CLIENT: SandboxClient = {
  clientId: 'legacy-client-id',
  clientSecret: 'legacy-client-secret-not-for-production',
  redirectUris: ['http://localhost:8080/callback', 'http://example.com/callback'],
};
const FANCY_CLIENT: SandboxClient = {
  clientId: 'fancy-client-id',
  clientSecret: 'fancy-client-secret-not-for-production',
  name: '<b>Evil & "Co"</b>',
  redirectUris: [
    'https://app.example/cb?tenant=a',
    'com.example.app://callback',
    'http://127.0.0.1/x?n="<i>"',
  ],
};
const CLIENTS = [DEFAULT_CLIENT, OTHER_CLIENT, LEGACY_CLIENT, FANCY_CLIENT];
const REDIRECT = 'http://127.0.0.1:8888/callback';

function basic(client: SandboxClient, secret = client.clientSecret): string {
  return `Basic ${btoa(`${client.clientId}:${secret}`)}`;
}

function authorizeQuery(params: Record<string, string>): string {
  return new URLSearchParams({
    client_id: SANDBOX_CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT,
    ...params,
  }).toString();
}

interface TokenReply {
  status: number;
  contentType: string | null;
  body: Record<string, unknown>;
  headers: Headers;
}

async function postToken(
  base: string,
  params: Record<string, string>,
  auth: string | null = basic(DEFAULT_CLIENT),
): Promise<TokenReply> {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
  if (auth !== null) {
    headers.Authorization = auth;
  }
  const res = await fetch(`${base}/api/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(params),
  });
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    body: await res.json(),
    headers: res.headers,
  };
}

function expectTokenError(reply: TokenReply, body: Record<string, string>): void {
  expect(reply.status).toBe(400);
  expect(reply.contentType).toBe('application/json');
  expect(reply.body).toEqual(body);
}

function location(res: Response): URL {
  expect(res.status).toBe(302);
  const value = res.headers.get('location');
  expect(value).toBeTruthy();
  return new URL(value ?? '');
}

const HTML_ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => HTML_ENTITIES[entity] ?? entity);
}

function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields[decodeEntities(match[1] ?? '')] = decodeEntities(match[2] ?? '');
  }
  return fields;
}

function formAction(html: string, pageUrl: string): string {
  const action = /<form method="post" action="([^"]*)">/.exec(html)?.[1];
  expect(action).toBeDefined();
  return new URL(action ?? '', pageUrl).toString();
}

async function submitConsent(pageUrl: string, decision: 'agree' | 'cancel'): Promise<Response> {
  const page = await fetch(pageUrl, { redirect: 'manual' });
  const html = await page.text();
  return fetch(formAction(html, pageUrl), {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams({ ...hiddenFields(html), decision }),
  });
}

describe('sandbox /authorize (consent mode)', () => {
  let sandbox: Sandbox;
  let server: Listening;

  beforeAll(async () => {
    sandbox = createSandbox({ clients: CLIENTS });
    server = await listen(sandbox.app.fetch);
  });
  afterAll(() => server.close());

  const get = (query: string) => fetch(`${server.url}/authorize?${query}`, { redirect: 'manual' });

  async function expectRefusal(query: string, message: string): Promise<void> {
    const res = await get(query);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toContain(message);
  }

  it('shows INVALID_CLIENT: Invalid client as a page for an unknown or missing client_id', async () => {
    await expectRefusal(authorizeQuery({ client_id: 'nobody' }), 'INVALID_CLIENT: Invalid client');
    await expectRefusal(
      'response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback',
      'INVALID_CLIENT: Invalid client',
    );
  });

  it('shows Invalid redirect URI for a missing or unregistered redirect_uri, matching exactly', async () => {
    const { redirect_uri: _, ...rest } = Object.fromEntries(new URLSearchParams(authorizeQuery({})));
    await expectRefusal(new URLSearchParams(rest).toString(), 'INVALID_CLIENT: Invalid redirect URI');
    for (const uri of [
      'http://127.0.0.1:8888/callback/',
      'http://127.0.0.1:8888/Callback',
      'https://127.0.0.1/callback',
      'http://127.0.0.2/callback',
      'http://localhost:8888/callback',
    ]) {
      await expectRefusal(authorizeQuery({ redirect_uri: uri }), 'INVALID_CLIENT: Invalid redirect URI');
    }
  });

  it('shows Insecure redirect URI for registered localhost and plain-http URIs', async () => {
    for (const uri of LEGACY_CLIENT.redirectUris) {
      await expectRefusal(
        authorizeQuery({ client_id: LEGACY_CLIENT.clientId, redirect_uri: uri }),
        'INVALID_CLIENT: Insecure redirect URI',
      );
    }
  });

  it('shows Illegal scope for a scope Spotify does not grant', async () => {
    await expectRefusal(authorizeQuery({ scope: 'user-read-email user-delete-everything' }), 'Illegal scope');
  });

  it('redirects unsupported_response_type with the state once the redirect URI is trusted', async () => {
    const url = location(await get(authorizeQuery({ response_type: 'token', state: 's 1' })));
    expect(`${url.origin}${url.pathname}`).toBe(REDIRECT);
    expect(url.searchParams.get('error')).toBe('unsupported_response_type');
    expect(url.searchParams.get('state')).toBe('s 1');
  });

  it('redirects invalid_request for a PKCE challenge that is not S256 or not 43 base64url chars', async () => {
    const good = await pkceChallenge(randomToken(32));
    const cases: Record<string, string>[] = [
      { code_challenge_method: 'plain', code_challenge: good },
      { code_challenge: good },
      { code_challenge_method: 'S256', code_challenge: good.slice(1) },
      { code_challenge_method: 'S256', code_challenge: `${good.slice(1)}=` },
      { code_challenge_method: 'S256' },
    ];
    for (const pkce of cases) {
      const url = location(await get(authorizeQuery({ ...pkce, state: 'xyz' })));
      expect(url.searchParams.get('error')).toBe('invalid_request');
      expect(url.searchParams.get('error_description')).toBeTruthy();
      expect(url.searchParams.get('state')).toBe('xyz');
    }
  });

  it('keeps the query already in a registered redirect URI when redirecting', async () => {
    const res = await get(
      authorizeQuery({
        client_id: FANCY_CLIENT.clientId,
        redirect_uri: 'https://app.example/cb?tenant=a',
        response_type: 'x',
      }),
    );
    expect(res.headers.get('location')).toBe(
      'https://app.example/cb?tenant=a&error=unsupported_response_type',
    );
  });

  it('shows a consent page naming the app and scopes, with agree and cancel buttons', async () => {
    const query = authorizeQuery({
      scope: 'user-read-email playlist-modify-private',
      state: 'abc',
      show_dialog: 'true',
    });
    const res = await get(query);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'unsafe-inline'");
    expect(csp).toMatch(/form-action 'self'/);
    expect(csp).not.toContain('script-src');
    const html = await res.text();
    expect(html).toContain(SANDBOX_CLIENT_ID);
    expect(html).toContain('See your email address');
    expect(html).toContain('Create and change your private playlists');
    expect(html).toMatch(/<button[^>]*id="agree"/);
    expect(html).toMatch(/<button[^>]*id="cancel"/);
    expect(html).toContain('<form method="post" action="authorize">');
    expect(html).not.toContain('<script');
    expect(hiddenFields(html)).toEqual(Object.fromEntries(new URLSearchParams(query)));
  });

  it('lets the consent form redirect to the app under its CSP form-action', async () => {
    const res = await get(authorizeQuery({}));
    expect(res.headers.get('content-security-policy')).toContain("form-action 'self' http://127.0.0.1:8888;");
  });

  it('escapes everything it echoes into the consent page', async () => {
    const state = '"><script>alert(1)</script>';
    const res = await get(
      authorizeQuery({ client_id: FANCY_CLIENT.clientId, redirect_uri: 'http://127.0.0.1/x?n="<i>"', state }),
    );
    const html = await res.text();
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>Evil');
    expect(html).not.toContain('<i>');
    expect(html).toContain('&lt;b&gt;Evil &amp; &quot;Co&quot;&lt;/b&gt;');
    expect(hiddenFields(html).state).toBe(state);
  });

  it('redirects with a code and the state when the user agrees', async () => {
    const pageUrl = `${server.url}/authorize?${authorizeQuery({ state: 'st&te=1', scope: 'streaming' })}`;
    const url = location(await submitConsent(pageUrl, 'agree'));
    expect(`${url.origin}${url.pathname}`).toBe(REDIRECT);
    expect(url.searchParams.get('state')).toBe('st&te=1');
    const code = url.searchParams.get('code') ?? '';
    const reply = await postToken(server.url, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
    });
    expect(reply.status).toBe(200);
    expect(reply.body.scope).toBe('streaming');
  });

  it('redirects access_denied with the state when the user cancels', async () => {
    const pageUrl = `${server.url}/authorize?${authorizeQuery({ state: 'no-thanks' })}`;
    const res = await submitConsent(pageUrl, 'cancel');
    expect(res.headers.get('location')).toBe(`${REDIRECT}?error=access_denied&state=no-thanks`);
  });

  it('validates the posted consent form again instead of trusting its hidden fields', async () => {
    const post = (fields: Record<string, string>) =>
      fetch(`${server.url}/authorize`, {
        method: 'POST',
        redirect: 'manual',
        body: new URLSearchParams(fields),
      });
    const base = Object.fromEntries(new URLSearchParams(authorizeQuery({})));
    let res = await post({ ...base, redirect_uri: 'https://evil.example/cb', decision: 'agree' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('INVALID_CLIENT: Invalid redirect URI');
    res = await post({ ...base, scope: 'admin', decision: 'agree' });
    expect(await res.text()).toContain('Illegal scope');
    res = await post({ ...base, decision: 'maybe' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it('works mounted under /sandbox, since its form action is relative', async () => {
    const parent = new Hono();
    parent.route('/sandbox', sandbox.app);
    const mounted = await listen(parent.fetch);
    try {
      const pageUrl = `${mounted.url}/sandbox/authorize?${authorizeQuery({ state: 'm' })}`;
      const page = await fetch(pageUrl);
      expect(formAction(await page.text(), pageUrl)).toBe(`${mounted.url}/sandbox/authorize`);
      const url = location(await submitConsent(pageUrl, 'agree'));
      const reply = await postToken(`${mounted.url}/sandbox`, {
        grant_type: 'authorization_code',
        code: url.searchParams.get('code') ?? '',
        redirect_uri: REDIRECT,
      });
      expect(reply.status).toBe(200);
    } finally {
      await mounted.close();
    }
  });
});

describe('sandbox tokens (auto-approve)', () => {
  let clock = START;
  let sandbox: Sandbox;
  let server: Listening;

  beforeAll(async () => {
    sandbox = createSandbox({ clients: CLIENTS, autoApprove: true, now: () => clock });
    server = await listen(sandbox.app.fetch);
  });
  afterAll(() => server.close());
  beforeEach(() => {
    clock = START;
  });

  async function authorize(params: Record<string, string> = {}): Promise<URL> {
    return location(await fetch(`${server.url}/authorize?${authorizeQuery(params)}`, { redirect: 'manual' }));
  }

  async function getCode(params: Record<string, string> = {}): Promise<string> {
    const code = (await authorize(params)).searchParams.get('code');
    expect(code).toBeTruthy();
    return code ?? '';
  }

  const exchange = async (params: Record<string, string> = {}, auth: string | null = basic(DEFAULT_CLIENT)) =>
    postToken(
      server.url,
      { grant_type: 'authorization_code', code: await getCode(), redirect_uri: REDIRECT, ...params },
      auth,
    );

  async function pkceCode(verifier = randomToken(48)): Promise<{ code: string; verifier: string }> {
    const code = await getCode({
      code_challenge_method: 'S256',
      code_challenge: await pkceChallenge(verifier),
    });
    return { code, verifier };
  }

  async function refreshTokenFor(params: Record<string, string> = {}): Promise<string> {
    const reply = await exchange(params);
    expect(reply.status).toBe(200);
    return String(reply.body.refresh_token);
  }

  describe('/authorize', () => {
    it('redirects with a code and the state at once, with no consent page', async () => {
      const url = await authorize({ state: 'abc' });
      expect(`${url.origin}${url.pathname}`).toBe(REDIRECT);
      expect(url.searchParams.get('code')).toMatch(/^AQ[A-Za-z0-9_-]+$/);
      expect(url.searchParams.get('state')).toBe('abc');
    });

    it('accepts any port for a loopback URI registered without one, on IPv4 and IPv6', async () => {
      for (const uri of [
        'http://127.0.0.1:54321/callback',
        'http://[::1]:8080/callback',
        'http://127.0.0.1/callback',
      ]) {
        const res = await fetch(`${server.url}/authorize?${authorizeQuery({ redirect_uri: uri })}`, {
          redirect: 'manual',
        });
        expect(res.headers.get('location')).toMatch(
          new RegExp(`^${uri.replace(/[.[\]]/g, '\\$&')}\\?code=AQ`),
        );
      }
    });

    it('accepts a registered custom-scheme redirect URI', async () => {
      const res = await fetch(
        `${server.url}/authorize?${authorizeQuery({ client_id: FANCY_CLIENT.clientId, redirect_uri: 'com.example.app://callback' })}`,
        { redirect: 'manual' },
      );
      expect(res.headers.get('location')).toMatch(/^com\.example\.app:\/\/callback\?code=AQ/);
    });

    it('still refuses localhost and illegal scopes with auto-approve', async () => {
      const res = await fetch(
        `${server.url}/authorize?${authorizeQuery({ client_id: LEGACY_CLIENT.clientId, redirect_uri: 'http://localhost:8080/callback' })}`,
        { redirect: 'manual' },
      );
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('INVALID_CLIENT: Insecure redirect URI');
      const scoped = await fetch(
        `${server.url}/authorize?${authorizeQuery({ scope: 'user-read-email email' })}`,
        {
          redirect: 'manual',
        },
      );
      expect(scoped.status).toBe(400);
      expect(await scoped.text()).toContain('Illegal scope');
    });
  });

  describe('POST /api/token request parsing and client auth', () => {
    it('treats a JSON body as no parameters: grant_type parameter is missing', async () => {
      const res = await fetch(`${server.url}/api/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: basic(DEFAULT_CLIENT) },
        body: JSON.stringify({
          grant_type: 'authorization_code',
          code: await getCode(),
          redirect_uri: REDIRECT,
        }),
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toEqual({
        error: 'unsupported_grant_type',
        error_description: 'grant_type parameter is missing',
      });
    });

    it('answers a missing grant_type and an unknown one with unsupported_grant_type', async () => {
      expectTokenError(await postToken(server.url, {}), {
        error: 'unsupported_grant_type',
        error_description: 'grant_type parameter is missing',
      });
      expectTokenError(await postToken(server.url, { grant_type: 'password' }), {
        error: 'unsupported_grant_type',
        error_description: 'grant_type must be client_credentials, authorization_code or refresh_token',
      });
    });

    it('answers a malformed Basic header with a bare invalid_client', async () => {
      for (const auth of ['Basic', 'Basic !!!', `Basic ${btoa('no-colon')}`, 'Bearer abc', 'Basic a=b=']) {
        expectTokenError(await exchange({}, auth), { error: 'invalid_client' });
      }
    });

    it('answers an unknown client with Invalid client and a wrong secret with Invalid client secret', async () => {
      expectTokenError(await exchange({}, basic({ ...DEFAULT_CLIENT, clientId: 'nobody' })), {
        error: 'invalid_client',
        error_description: 'Invalid client',
      });
      expectTokenError(await exchange({}, basic(DEFAULT_CLIENT, 'wrong-secret')), {
        error: 'invalid_client',
        error_description: 'Invalid client secret',
      });
    });

    it('answers Invalid client when neither Basic auth nor a known client_id is sent', async () => {
      expectTokenError(await exchange({}, null), {
        error: 'invalid_client',
        error_description: 'Invalid client',
      });
      expectTokenError(await exchange({ client_id: 'nobody' }, null), {
        error: 'invalid_client',
        error_description: 'Invalid client',
      });
    });
  });

  describe('authorization_code', () => {
    it('returns exactly access_token, token_type, expires_in (a number), refresh_token and scope', async () => {
      const code = await getCode({ scope: 'user-read-email  streaming' });
      const reply = await postToken(server.url, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
      });
      expect(reply.status).toBe(200);
      expect(reply.contentType).toBe('application/json');
      expect(reply.headers.get('cache-control')).toBe('no-store');
      expect(Object.keys(reply.body)).toEqual([
        'access_token',
        'token_type',
        'expires_in',
        'refresh_token',
        'scope',
      ]);
      expect(reply.body.access_token).toMatch(/^BQ[A-Za-z0-9_-]{100,}$/);
      expect(reply.body.refresh_token).toMatch(/^AQ[A-Za-z0-9_-]{100,}$/);
      expect(reply.body.token_type).toBe('Bearer');
      expect(reply.body.expires_in).toBe(3600);
      expect(reply.body.scope).toBe('user-read-email streaming');
    });

    it('returns an empty scope string when no scope was requested', async () => {
      expect((await exchange()).body.scope).toBe('');
    });

    it('answers a missing code with code must be supplied', async () => {
      expectTokenError(
        await postToken(server.url, { grant_type: 'authorization_code', redirect_uri: REDIRECT }),
        {
          error: 'invalid_request',
          error_description: 'code must be supplied',
        },
      );
    });

    it('answers an unknown or garbled code with Invalid authorization code', async () => {
      for (const code of ['AQnope', `${await getCode()}x`, 'not a code at all']) {
        expectTokenError(
          await postToken(server.url, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT }),
          {
            error: 'invalid_grant',
            error_description: 'Invalid authorization code',
          },
        );
      }
    });

    it('refuses to exchange a code twice', async () => {
      const params = { grant_type: 'authorization_code', code: await getCode(), redirect_uri: REDIRECT };
      expect((await postToken(server.url, params)).status).toBe(200);
      expectTokenError(await postToken(server.url, params), {
        error: 'invalid_grant',
        error_description: 'Invalid authorization code',
      });
    });

    it('consumes a code on a failed attempt too, so a blind retry fails', async () => {
      const code = await getCode();
      expectTokenError(
        await postToken(server.url, { grant_type: 'authorization_code', code, redirect_uri: `${REDIRECT}/` }),
        {
          error: 'invalid_grant',
          error_description: 'Invalid redirect URI',
        },
      );
      expectTokenError(
        await postToken(server.url, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT }),
        {
          error: 'invalid_grant',
          error_description: 'Invalid authorization code',
        },
      );
    });

    it("does not exchange another client's code", async () => {
      const code = await getCode({ client_id: OTHER_CLIENT.clientId });
      expectTokenError(await exchange({ code }), {
        error: 'invalid_grant',
        error_description: 'Invalid authorization code',
      });
    });

    it('expires a code after 10 minutes', async () => {
      const fresh = await getCode();
      clock += 10 * MINUTE - 1;
      expect((await exchange({ code: fresh })).status).toBe(200);
      const stale = await getCode();
      clock += 10 * MINUTE;
      expectTokenError(await exchange({ code: stale }), {
        error: 'invalid_grant',
        error_description: 'Authorization code expired',
      });
    });

    it('requires the exact redirect_uri sent to /authorize, port included', async () => {
      for (const redirect_uri of ['http://127.0.0.1:8889/callback', 'http://127.0.0.1/callback', '']) {
        expectTokenError(await exchange({ redirect_uri }), {
          error: 'invalid_grant',
          error_description: 'Invalid redirect URI',
        });
      }
      const code = await getCode();
      expectTokenError(await postToken(server.url, { grant_type: 'authorization_code', code }), {
        error: 'invalid_grant',
        error_description: 'Invalid redirect URI',
      });
    });
  });

  describe('PKCE', () => {
    it('exchanges a PKCE code for a public client with the right verifier', async () => {
      const { code, verifier } = await pkceCode();
      const reply = await postToken(
        server.url,
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT,
          client_id: SANDBOX_CLIENT_ID,
          code_verifier: verifier,
        },
        null,
      );
      expect(reply.status).toBe(200);
      expect(reply.body.refresh_token).toMatch(/^AQ/);
    });

    it('exchanges a PKCE code for a confidential client that forwards the verifier', async () => {
      const { code, verifier } = await pkceCode();
      expect((await exchange({ code, code_verifier: verifier })).status).toBe(200);
    });

    it('answers code_verifier required when a PKCE code comes without a verifier', async () => {
      const { code } = await pkceCode();
      expectTokenError(await exchange({ code }), {
        error: 'invalid_request',
        error_description: 'code_verifier required',
      });
      const pub = await pkceCode();
      expectTokenError(await exchange({ code: pub.code, client_id: SANDBOX_CLIENT_ID }, null), {
        error: 'invalid_request',
        error_description: 'code_verifier required',
      });
    });

    it('answers code_verifier was incorrect for a wrong verifier', async () => {
      const { code } = await pkceCode();
      expectTokenError(await exchange({ code, code_verifier: randomToken(48) }), {
        error: 'invalid_grant',
        error_description: 'code_verifier was incorrect',
      });
    });

    it('refuses a verifier outside RFC 7636 (43-128 chars) even when its hash matches', async () => {
      const { code, verifier } = await pkceCode('a'.repeat(42));
      expectTokenError(await exchange({ code, code_verifier: verifier }), {
        error: 'invalid_grant',
        error_description: 'code_verifier was incorrect',
      });
    });

    it('does not let a public client exchange a code issued without a challenge', async () => {
      expectTokenError(await exchange({ client_id: SANDBOX_CLIENT_ID }, null), {
        error: 'invalid_request',
        error_description: 'code_verifier required',
      });
      expectTokenError(
        await exchange({ client_id: SANDBOX_CLIENT_ID, code_verifier: randomToken(48) }, null),
        {
          error: 'invalid_grant',
          error_description: 'code_verifier was incorrect',
        },
      );
    });
  });

  describe('refresh_token', () => {
    const refresh = (refresh_token: string, auth: string | null = basic(DEFAULT_CLIENT), extra = {}) =>
      postToken(server.url, { grant_type: 'refresh_token', refresh_token, ...extra }, auth);

    it('answers a missing refresh_token with refresh_token must be supplied', async () => {
      expectTokenError(await postToken(server.url, { grant_type: 'refresh_token' }), {
        error: 'invalid_request',
        error_description: 'refresh_token must be supplied',
      });
    });

    it("answers an unknown or another client's refresh token with Invalid refresh token", async () => {
      expectTokenError(await refresh('AQunknown'), {
        error: 'invalid_grant',
        error_description: 'Invalid refresh token',
      });
      const token = await refreshTokenFor();
      expectTokenError(await refresh(token, basic(OTHER_CLIENT)), {
        error: 'invalid_grant',
        error_description: 'Invalid refresh token',
      });
    });

    it('refreshes a confidential client without rotating, keeping the original scopes', async () => {
      const token = await refreshTokenFor({ code: await getCode({ scope: 'streaming user-top-read' }) });
      const first = await refresh(token);
      expect(first.status).toBe(200);
      expect(Object.keys(first.body)).toEqual(['access_token', 'token_type', 'expires_in', 'scope']);
      expect(first.body.scope).toBe('streaming user-top-read');
      expect((await refresh(token)).status).toBe(200);
    });

    it('rotates for a public PKCE client, after which the old token is revoked', async () => {
      const { code, verifier } = await pkceCode();
      const exchanged = await postToken(
        server.url,
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT,
          client_id: SANDBOX_CLIENT_ID,
          code_verifier: verifier,
        },
        null,
      );
      const old = String(exchanged.body.refresh_token);
      const rotated = await refresh(old, null, { client_id: SANDBOX_CLIENT_ID });
      expect(rotated.status).toBe(200);
      expect(rotated.body.refresh_token).toMatch(/^AQ/);
      expect(rotated.body.refresh_token).not.toBe(old);
      expectTokenError(await refresh(old, null, { client_id: SANDBOX_CLIENT_ID }), {
        error: 'invalid_grant',
        error_description: 'Refresh token revoked',
      });
      expect(
        (await refresh(String(rotated.body.refresh_token), null, { client_id: SANDBOX_CLIENT_ID })).status,
      ).toBe(200);
    });

    it('expires refresh tokens 6 months after the original authorization, however often refreshed', async () => {
      const token = await refreshTokenFor();
      clock += 150 * DAY;
      expect((await refresh(token)).status).toBe(200);
      clock += 30 * DAY;
      expect((await refresh(token)).status).toBe(200);
      clock += 5 * DAY;
      expectTokenError(await refresh(token), {
        error: 'invalid_grant',
        error_description: 'Refresh token expired',
      });
    });

    it('answers client_credentials with an app token: no refresh token, no scope; Basic auth only', async () => {
      const reply = await postToken(server.url, { grant_type: 'client_credentials' });
      expect(reply.status).toBe(200);
      expect(Object.keys(reply.body)).toEqual(['access_token', 'token_type', 'expires_in']);
      expectTokenError(
        await postToken(server.url, { grant_type: 'client_credentials', client_id: SANDBOX_CLIENT_ID }, null),
        {
          error: 'invalid_client',
          error_description: 'Invalid client',
        },
      );
    });
  });

  describe('GET /v1/me', () => {
    const me = (token?: string) =>
      fetch(`${server.url}/v1/me`, {
        headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
      });

    it('returns a profile for a valid access token, the same one after a refresh', async () => {
      const reply = await exchange({ code: await getCode({ scope: 'user-read-email user-read-private' }) });
      const res = await me(String(reply.body.access_token));
      expect(res.status).toBe(200);
      const profile = await res.json();
      expect(profile).toEqual({
        id: expect.stringMatching(/^sandbox-[0-9a-f]+$/),
        display_name: 'Sandbox User',
        email: expect.stringContaining('@'),
        country: 'SE',
        product: 'premium',
        type: 'user',
        uri: `spotify:user:${profile.id}`,
      });
      const refreshed = await postToken(server.url, {
        grant_type: 'refresh_token',
        refresh_token: String(reply.body.refresh_token),
      });
      expect(await (await me(String(refreshed.body.access_token))).json()).toEqual(profile);
    });

    it('leaves out email, country and product without the scopes that grant them', async () => {
      const reply = await exchange();
      expect(Object.keys(await (await me(String(reply.body.access_token))).json())).toEqual([
        'id',
        'display_name',
        'type',
        'uri',
      ]);
    });

    it('answers a missing or unknown token with the Web API 401 shape', async () => {
      for (const res of [await me(), await me('BQnope')]) {
        expect(res.status).toBe(401);
        expect(await res.json()).toEqual({ error: { status: 401, message: 'Invalid access token' } });
      }
    });

    it('answers an expired token with The access token expired', async () => {
      const reply = await exchange();
      clock += 3600 * 1000;
      const res = await me(String(reply.body.access_token));
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: { status: 401, message: 'The access token expired' } });
    });
  });
});

describe('sandbox options', () => {
  it('rotates confidential refresh tokens when rotateRefreshTokens is set', async () => {
    const sandbox = createSandbox({
      clients: [DEFAULT_CLIENT],
      autoApprove: true,
      rotateRefreshTokens: true,
    });
    const server = await listen(sandbox.app.fetch);
    try {
      const url = location(
        await fetch(`${server.url}/authorize?${authorizeQuery({})}`, { redirect: 'manual' }),
      );
      const code = url.searchParams.get('code') ?? '';
      const first = await postToken(server.url, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
      });
      const old = String(first.body.refresh_token);
      const rotated = await postToken(server.url, { grant_type: 'refresh_token', refresh_token: old });
      expect(rotated.body.refresh_token).toMatch(/^AQ/);
      expectTokenError(await postToken(server.url, { grant_type: 'refresh_token', refresh_token: old }), {
        error: 'invalid_grant',
        error_description: 'Refresh token revoked',
      });
    } finally {
      await server.close();
    }
  });

  it('uses accessTokenTtlSeconds for expires_in', async () => {
    const sandbox = createSandbox({
      clients: [DEFAULT_CLIENT],
      autoApprove: true,
      accessTokenTtlSeconds: 60,
    });
    const res = await sandbox.app.request('/api/token', {
      method: 'POST',
      headers: { Authorization: basic(DEFAULT_CLIENT), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect((await res.json()).expires_in).toBe(60);
  });

  it('refuses a client registered twice', () => {
    expect(() => createSandbox({ clients: [DEFAULT_CLIENT, DEFAULT_CLIENT] })).toThrow(/registered twice/);
  });
});
