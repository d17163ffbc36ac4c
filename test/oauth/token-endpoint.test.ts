/**
 * POST /token over real sockets against the sandbox: RFC 6749's token endpoint for public clients,
 * every error answer of §5.2 the issue lists, and that each one is refused before Spotify is called.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEALED_PREFIX } from '../../src/server/sealing/index.js';
import {
  authorize,
  CLIENT_ID,
  postForm,
  postJson,
  REDIRECT_URI,
  type Stack,
  startStack,
} from '../helpers/stack.js';
import { withSecondToLastFlipped } from '../helpers/tampered.js';

let stack: Stack;
let token: string;

beforeAll(async () => {
  stack = await startStack();
  token = `${stack.service.url}/token`;
});
afterAll(() => stack.close());

const calls = () => {
  const byGrant = stack.sandbox.stats().byGrant;
  return (byGrant.authorization_code ?? 0) + (byGrant.refresh_token ?? 0);
};

async function code(): Promise<string> {
  return (await authorize(stack.accounts.url)).code;
}

const basic = (id: string, secret: string) => `Basic ${btoa(`${id}:${secret}`)}`;

async function exchange(fields: Record<string, string> = {}, headers: Record<string, string> = {}) {
  return postForm(
    token,
    {
      grant_type: 'authorization_code',
      code: await code(),
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      ...fields,
    },
    headers,
  );
}

async function expectError(response: Response, status: number, error: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/json');
  const body = (await response.json()) as { error: string; error_description: string };
  expect(body.error).toBe(error);
  expect(typeof body.error_description).toBe('string');
  return body;
}

describe('POST /token, authorization_code', () => {
  it('exchanges a code for a sealed refresh token, with the lifetime field and no-store headers', async () => {
    const response = await exchange();
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'user-read-email user-read-private' });
    expect(String(body.refresh_token).startsWith(SEALED_PREFIX)).toBe(true);
    expect(typeof body.refresh_token_expires_in).toBe('number');
  });

  it('forwards code_verifier: a PKCE code with a wrong one is refused by Spotify', async () => {
    const verifier = 'v'.repeat(43);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
    const challenge = btoa(String.fromCharCode(...digest))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
    const pkce = async () =>
      (await authorize(stack.accounts.url, { code_challenge: challenge, code_challenge_method: 'S256' }))
        .code;
    const base = { grant_type: 'authorization_code', redirect_uri: REDIRECT_URI, client_id: CLIENT_ID };
    expect((await postForm(token, { ...base, code: await pkce(), code_verifier: verifier })).status).toBe(
      200,
    );
    await expectError(
      await postForm(token, { ...base, code: await pkce(), code_verifier: 'w'.repeat(43) }),
      400,
      'invalid_grant',
    );
  });

  it('takes HTTP Basic with an empty password as a public client naming itself', async () => {
    const { client_id: _, ...rest } = {
      client_id: '',
      grant_type: 'authorization_code',
      code: await code(),
      redirect_uri: REDIRECT_URI,
    };
    const response = await postForm(token, rest, { Authorization: basic(CLIENT_ID, '') });
    expect(response.status).toBe(200);
  });

  it('takes an empty client_secret, as `client_secret=` or the bare name, as no secret', async () => {
    expect((await exchange({ client_secret: '' })).status).toBe(200);
    const bare = `grant_type=authorization_code&code=${await code()}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&client_id=${CLIENT_ID}&client_secret`;
    const response = await fetch(token, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: bare,
    });
    expect(response.status).toBe(200);
  });

  it('takes a JSON body, as /swap does', async () => {
    const response = await postJson(token, {
      grant_type: 'authorization_code',
      code: await code(),
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
    });
    expect(response.status).toBe(200);
  });
});

describe('POST /token refuses, before calling Spotify', () => {
  it('a non-empty client_secret, in the body: 401 invalid_client', async () => {
    const before = calls();
    await expectError(await exchange({ client_secret: 'the-real-secret' }), 401, 'invalid_client');
    expect(calls()).toBe(before);
  });

  it('a non-empty Basic password: 401 invalid_client with WWW-Authenticate, the secret never echoed', async () => {
    const before = calls();
    const response = await exchange({}, { Authorization: basic(CLIENT_ID, 'the-real-secret') });
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic/);
    const body = await expectError(response, 401, 'invalid_client');
    expect(JSON.stringify(body)).not.toContain('the-real-secret');
    expect(stack.rawLogs()).not.toContain('the-real-secret');
    expect(calls()).toBe(before);
  });

  it('an Authorization header that is not Basic: 401 invalid_client', async () => {
    await expectError(await exchange({}, { Authorization: 'Bearer abc' }), 401, 'invalid_client');
  });

  it('an unknown client_id: 401 invalid_client', async () => {
    const before = calls();
    await expectError(await exchange({ client_id: 'someone-else' }), 401, 'invalid_client');
    expect(calls()).toBe(before);
  });

  it('no client_id at all: 400 invalid_request', async () => {
    const response = await postForm(token, {
      grant_type: 'authorization_code',
      code: await code(),
      redirect_uri: REDIRECT_URI,
    });
    await expectError(response, 400, 'invalid_request');
  });

  it('different client ids in the body and in Basic: 400 invalid_request', async () => {
    await expectError(await exchange({}, { Authorization: basic('other', '') }), 400, 'invalid_request');
  });

  it('a missing grant_type: 400 invalid_request; an unknown one: 400 unsupported_grant_type', async () => {
    const before = calls();
    await expectError(await postForm(token, { client_id: CLIENT_ID, code: 'x' }), 400, 'invalid_request');
    await expectError(
      await postForm(token, { client_id: CLIENT_ID, grant_type: 'client_credentials' }),
      400,
      'unsupported_grant_type',
    );
    await expectError(
      await postForm(token, { client_id: CLIENT_ID, grant_type: 'password', username: 'a', password: 'b' }),
      400,
      'unsupported_grant_type',
    );
    expect(calls()).toBe(before);
  });

  it('a missing redirect_uri: 400 invalid_request (RFC 6749 §4.1.3; /swap would put in its default)', async () => {
    const before = calls();
    const { redirect_uri: _, ...rest } = {
      grant_type: 'authorization_code',
      code: await code(),
      redirect_uri: '',
      client_id: CLIENT_ID,
    };
    await expectError(await postForm(token, rest), 400, 'invalid_request');
    expect(calls()).toBe(before);
  });

  it('a redirect_uri off the allowlist: 400 invalid_grant, where /swap would substitute the default', async () => {
    const before = calls();
    await expectError(await exchange({ redirect_uri: 'https://evil.example/cb' }), 400, 'invalid_grant');
    expect(calls()).toBe(before);
  });

  it('a missing code or refresh_token: 400 invalid_request', async () => {
    await expectError(
      await postForm(token, {
        grant_type: 'authorization_code',
        client_id: CLIENT_ID,
        redirect_uri: REDIRECT_URI,
      }),
      400,
      'invalid_request',
    );
    await expectError(
      await postForm(token, { grant_type: 'refresh_token', client_id: CLIENT_ID }),
      400,
      'invalid_request',
    );
  });

  it('a repeated grant_type: 400 invalid_request', async () => {
    const response = await fetch(token, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `grant_type=refresh_token&grant_type=refresh_token&client_id=${CLIENT_ID}&refresh_token=x`,
    });
    await expectError(response, 400, 'invalid_request');
  });

  it('a GET: JSON 405 with Allow: POST', async () => {
    const response = await fetch(token);
    expect(response.headers.get('allow')).toBe('POST');
    await expectError(response, 405, 'method_not_allowed');
  });
});

describe('POST /token, refresh_token', () => {
  async function refreshToken(): Promise<string> {
    return ((await (await exchange()).json()) as { refresh_token: string }).refresh_token;
  }

  it('refreshes a sealed token, with the granted scope or with none', async () => {
    const refresh_token = await refreshToken();
    const base = { grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token };
    const plain = await postForm(token, base);
    expect(plain.status).toBe(200);
    expect(await plain.json()).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });
    const same = await postForm(token, { ...base, scope: 'user-read-private user-read-email' });
    expect(same.status).toBe(200);
  });

  it('refuses any other scope with invalid_scope, narrower or wider, before calling Spotify', async () => {
    const refresh_token = await refreshToken();
    const before = calls();
    for (const scope of ['user-read-email', 'user-read-email user-read-private streaming']) {
      await expectError(
        await postForm(token, { grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token, scope }),
        400,
        'invalid_scope',
      );
    }
    expect(calls()).toBe(before);
  });

  it('a tampered token: the generic invalid_grant, before calling Spotify', async () => {
    const refresh_token = withSecondToLastFlipped(await refreshToken());
    const before = calls();
    const response = await postForm(token, {
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      refresh_token,
    });
    expect(await expectError(response, 400, 'invalid_grant')).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid refresh token',
    });
    expect(calls()).toBe(before);
  });

  it('a token from /swap refreshes on /token, and one of /token on /refresh: they are the same grants', async () => {
    const swapped = (await (await postForm(`${stack.service.url}/swap`, { code: await code() })).json()) as {
      refresh_token: string;
    };
    const viaToken = await postForm(token, {
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      refresh_token: swapped.refresh_token,
    });
    expect(viaToken.status).toBe(200);
    const viaRefresh = await postForm(`${stack.service.url}/refresh`, {
      refresh_token: await refreshToken(),
    });
    expect(viaRefresh.status).toBe(200);
  });
});
