/**
 * The OpenAPI document is the reference of the HTTP API, so it is held to the service: it must be a
 * valid OpenAPI 3.1 document, the committed docs/openapi.json must be what the code generates, and
 * every answer of a running service (each success and each error, produced for real over a socket
 * against the sandbox with faults injected) must be documented for its path, status, headers and body.
 */
import { readFileSync } from 'node:fs';
import { compileErrors, validate } from '@readme/openapi-parser';
import type { RunnerTask, RunnerTestFile, RunnerTestSuite } from 'vitest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../src/sandbox/index.js';
import { createApp } from '../src/server/app.js';
import { loadConfig } from '../src/server/config/index.js';
import { OPENAPI_PATH } from '../src/server/contract.js';
import { openApiDocument } from '../src/server/openapi/index.js';
import { pkceChallenge, randomToken } from '../src/shared/encoding.js';
import { type Listening, listen } from './helpers/listen.js';
import { type Contract, createContract } from './helpers/openapi-contract.js';
import { injectFault, tokenCalls } from './helpers/sandbox-control.js';
import {
  authorize,
  CLIENT_ID,
  CLIENT_SECRET,
  REDIRECT_URI,
  SECRET_A,
  SECRET_B,
  type Stack,
  startStack,
  UNSEALED,
} from './helpers/stack.js';

const COMMITTED = new URL('../docs/openapi.json', import.meta.url);
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const ORIGIN = 'https://app.example.com';
const FORM = 'application/x-www-form-urlencoded';

/** Every `METHOD /template STATUS` any contract in this file checked, for the coverage test at the end. */
const covered = new Set<string>();

interface Client {
  contract: Contract;
  /** Sends a request to the service and checks the answer against the document it serves. */
  send(method: string, path: string, init?: RequestInit): ReturnType<Contract['check']>;
  form(
    path: string,
    fields: Record<string, string>,
    headers?: Record<string, string>,
  ): ReturnType<Contract['check']>;
  json(path: string, body: unknown): ReturnType<Contract['check']>;
}

/** Fetches the service's own /openapi.json (itself checked against the document) and checks with it. */
async function clientFor(base: string): Promise<Client> {
  const served = (await (await fetch(`${base}${OPENAPI_PATH}`)).json()) as unknown;
  const contract = createContract(served);
  const send: Client['send'] = async (method, path, init = {}) => {
    const checked = await contract.check(method, path, await fetch(`${base}${path}`, { ...init, method }));
    covered.add(checked.documentedAs);
    return checked;
  };
  await send('GET', OPENAPI_PATH);
  return {
    contract,
    send,
    form: (path, fields, headers = {}) =>
      send('POST', path, {
        headers: { 'Content-Type': FORM, ...headers },
        body: new URLSearchParams(fields),
      }),
    json: (path, body) =>
      send('POST', path, { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
  };
}

function errorOf(body: unknown): string {
  return (body as { error: string }).error;
}

describe('the document', () => {
  it('is a valid OpenAPI 3.1 document, with and without named apps', async () => {
    for (const document of [
      openApiDocument(),
      openApiDocument({ apps: ['ios', 'web'], defaultApp: false }),
    ]) {
      const result = await validate(structuredClone(document) as unknown as Parameters<typeof validate>[0]);
      expect(result.valid ? '' : compileErrors(result)).toBe('');
      expect(result.warnings).toEqual([]);
      expect(createContract(document).compileAll()).toBeGreaterThan(20);
    }
  });

  it("carries the package's version as info.version (regenerate with `npm run openapi` after a bump)", () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect((openApiDocument().info as { version: string }).version).toBe(version);
  });

  it('is committed as docs/openapi.json, up to date (regenerate with `npm run openapi`)', () => {
    expect(JSON.parse(readFileSync(COMMITTED, 'utf8'))).toEqual(openApiDocument());
  });

  it('has an error schema of exactly error and error_description, and a closed token schema', () => {
    const schemas = (
      openApiDocument().components as { schemas: Record<string, { additionalProperties?: unknown }> }
    ).schemas;
    expect(schemas.Error?.additionalProperties).toBe(false);
    expect(schemas.TokenResponse?.additionalProperties).toBe(false);
    expect(schemas.SwapParameters?.additionalProperties).toBe(true);
  });
});

describe('the contract check', () => {
  const contract = createContract(openApiDocument());
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-store',
        Pragma: 'no-cache',
        'X-Request-Id': 'r1',
        'X-Content-Type-Options': 'nosniff',
        ...headers,
      },
    });
  const ok = { access_token: 'BQx', token_type: 'Bearer', expires_in: 3600, scope: '' };
  const refuses = (method: string, path: string, response: Response, problem: RegExp) =>
    expect(contract.check(method, path, response)).rejects.toThrow(problem);

  it('accepts a documented answer', async () => {
    expect((await contract.check('POST', '/swap', json(200, ok))).documentedAs).toBe('POST /swap 200');
  });

  it('refuses answers the document does not describe', async () => {
    await refuses('POST', '/swap', json(201, ok), /status 201 is not documented/);
    await refuses('GET', '/healthz', json(404, { error: 'not_found' }), /status 404 is not documented/);
    await refuses('POST', '/healthz', json(404, { error: 'not_found' }), /POST \/healthz: answered 404/);
    await refuses('GET', '/nowhere', json(400, { error: 'x' }), /not 404/);
    await refuses(
      'POST',
      '/swap',
      json(200, { ...ok, expires_in: '3600' }),
      /body\/expires_in must be integer/,
    );
    await refuses('POST', '/swap', json(200, { ...ok, extra: 1 }), /additional properties/);
    await refuses('POST', '/swap', json(400, { error: 'x', stack: 'at ...' }), /additional properties/);
    await refuses('POST', '/swap', json(429, { error: 'rate_limited' }), /Retry-After is required/);
    await refuses(
      'POST',
      '/swap',
      json(503, { error: 'x' }, { 'Retry-After': '1' }),
      /must be equal to constant/,
    );
    await refuses(
      'POST',
      '/swap',
      json(429, { error: 'rate_limited' }, { 'Retry-After': 'soon' }),
      /Retry-After/,
    );
    await refuses('POST', '/swap', json(200, ok, { 'Cache-Control': 'max-age=60' }), /Cache-Control/);
    await refuses('POST', '/swap', json(200, ok, { 'X-Powered-By': 'x' }), /x-powered-by is not documented/);
    await refuses('GET', '/swap', json(405, { error: 'method_not_allowed' }), /Allow is required/);
    await refuses(
      'POST',
      '/swap',
      json(200, ok, { 'Content-Type': 'text/json' }),
      /text\/json is not documented/,
    );
  });
});

describe('a service with sealing, CORS and a metrics token', () => {
  let stack: Stack;
  let api: Client;

  beforeAll(async () => {
    stack = await startStack({
      env: {
        ENCRYPTION_SECRET: SECRET_A,
        METRICS_TOKEN,
        CORS_ORIGINS: ORIGIN,
        UPSTREAM_TIMEOUT_MS: '300',
      },
    });
    api = await clientFor(stack.service.url);
  });
  afterAll(() => stack.close());

  const code = async (params: Record<string, string> = {}) =>
    (await authorize(stack.accounts.url, params)).code;

  it('serves the committed document at GET /openapi.json, and lists it on GET /', async () => {
    const served = await api.send('GET', OPENAPI_PATH);
    expect(served.headers.get('content-type')).toBe('application/json');
    expect(served.body).toEqual(JSON.parse(readFileSync(COMMITTED, 'utf8')));
    const root = await api.send('GET', '/');
    expect((root.body as { endpoints: Record<string, string> }).endpoints).toHaveProperty(
      `GET ${OPENAPI_PATH}`,
    );
  });

  it('swaps a code (form, with a PKCE verifier) and returns a sealed refresh token', async () => {
    const verifier = randomToken(48);
    const fields = {
      code: await code({ code_challenge: await pkceChallenge(verifier), code_challenge_method: 'S256' }),
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      client_id: CLIENT_ID,
    };
    expect(api.contract.requestProblems('POST', '/swap', FORM, fields)).toEqual([]);
    const answer = await api.form('/swap', fields);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect((answer.body as { refresh_token: string }).refresh_token).toMatch(/^sts2\./);
  });

  it('swaps a code sent as JSON on /api/token', async () => {
    const body = { code: await code(), redirect_uri: REDIRECT_URI, extra: 1 };
    expect(api.contract.requestProblems('POST', '/api/token', 'application/json', body)).toEqual([]);
    expect((await api.json('/api/token', body)).status).toBe(200);
  });

  it('refreshes on both paths; without rotation no refresh_token comes back', async () => {
    const swapped = await api.form('/swap', { code: await code() });
    const refreshToken = (swapped.body as { refresh_token: string }).refresh_token;
    for (const path of ['/refresh', '/api/refresh_token']) {
      const answer = await api.form(path, { refresh_token: refreshToken });
      expect(answer.status).toBe(200);
      expect(answer.body).not.toHaveProperty('refresh_token');
    }
  });

  it('400: a missing code (which the request schema refuses too), bad JSON, a reused code, a forged token', async () => {
    expect(api.contract.requestProblems('POST', '/swap', FORM, { redirect_uri: REDIRECT_URI })).not.toEqual(
      [],
    );
    expect(errorOf((await api.form('/swap', { redirect_uri: REDIRECT_URI })).body)).toBe('invalid_request');
    const badJson = await api.send('POST', '/swap', {
      headers: { 'Content-Type': 'application/json' },
      body: '{',
    });
    expect(errorOf(badJson.body)).toBe('invalid_request');
    const used = await code();
    expect((await api.form('/swap', { code: used })).status).toBe(200);
    expect(errorOf((await api.form('/swap', { code: used })).body)).toBe('invalid_grant');
    expect(errorOf((await api.form('/refresh', { refresh_token: 'sts1.forged' })).body)).toBe(
      'invalid_grant',
    );
  });

  it('revokes a login: 200 {} for a token that opens and for one that does not; the revoked login refreshes no more, without Spotify', async () => {
    const swapped = await api.form('/swap', { code: await code() });
    const refreshToken = (swapped.body as { refresh_token: string }).refresh_token;
    const revoked = await api.form('/revoke', { token: refreshToken, token_type_hint: 'refresh_token' });
    expect([revoked.status, revoked.body]).toEqual([200, {}]);
    expect(revoked.documentedAs).toBe('POST /revoke 200');
    const before = await tokenCalls(stack.accounts.url);
    const refused = await api.form('/refresh', { refresh_token: refreshToken });
    expect(refused.body).toEqual({
      error: 'invalid_grant',
      error_description: 'The login was revoked: the user must sign in again',
    });
    expect(await tokenCalls(stack.accounts.url)).toBe(before);
    const unknown = await api.json('/revoke', { token: 'sts2.not-one-of-ours' });
    expect([unknown.status, unknown.body]).toEqual([200, {}]);
    expect(errorOf((await api.form('/revoke', { token_type_hint: 'refresh_token' })).body)).toBe(
      'invalid_request',
    );
  });

  it('4XX: another JSON error from Spotify passes through with its status', async () => {
    await injectFault(stack.accounts.url, {
      kind: 'status',
      status: 401,
      body: '{"error":"invalid_client","error_description":"Invalid client"}',
      contentType: 'application/json',
    });
    const answer = await api.form('/swap', { code: await code() });
    expect(answer.status).toBe(401);
    expect(answer.documentedAs).toBe('POST /swap 4XX');
  });

  it('404: an unknown path, and an app that is not configured', async () => {
    expect((await api.send('GET', '/nope')).documentedAs).toBe('* (unlisted) 404');
    const noApp = await api.form('/apps/nope/swap', { code: 'x' });
    expect(noApp.documentedAs).toBe('POST /apps/{app}/swap 404');
  });

  it('405: a wrong method, with Allow', async () => {
    expect((await api.send('GET', '/swap')).headers.get('allow')).toBe('POST, OPTIONS');
    expect((await api.send('PUT', '/api/refresh_token')).documentedAs).toBe('PUT /api/refresh_token 405');
  });

  it('405: any method but GET and HEAD on the read-only endpoints, with Allow', async () => {
    for (const path of ['/', '/healthz', '/readyz', '/metrics', '/openapi.json']) {
      const answer = await api.send('POST', path);
      expect(answer.documentedAs).toBe(`POST ${path} 405`);
      expect(answer.headers.get('allow')).toBe('GET, HEAD');
      expect(answer.body).toEqual({
        error: 'method_not_allowed',
        error_description: 'Use GET for this endpoint',
      });
    }
    expect((await api.send('DELETE', '/healthz')).status).toBe(405);
  });

  it('413: a body over 8 KiB', async () => {
    expect((await api.form('/swap', { code: 'x', pad: 'a'.repeat(9000) })).documentedAs).toBe(
      'POST /swap 413',
    );
  });

  it('415: a body that is neither form nor JSON', async () => {
    const answer = await api.send('POST', '/refresh', {
      headers: { 'Content-Type': 'text/plain' },
      body: 'x',
    });
    expect(answer.documentedAs).toBe('POST /refresh 415');
  });

  it('429 from Spotify: Retry-After in whole seconds, no RateLimit headers while the limit is off', async () => {
    await injectFault(stack.accounts.url, { kind: 'rate-limit', retryAfter: 7 });
    const answer = await api.form('/swap', { code: await code() });
    expect(answer.documentedAs).toBe('POST /swap 429');
    expect(answer.headers.get('retry-after')).toBe('7');
    expect(answer.headers.get('ratelimit')).toBeNull();
  });

  it('502: Spotify answers 503 (plain text)', async () => {
    await injectFault(stack.accounts.url, { kind: 'status', status: 503 });
    expect(errorOf((await api.form('/swap', { code: await code() })).body)).toBe('upstream_error');
  });

  it('504: Spotify is slower than UPSTREAM_TIMEOUT_MS', async () => {
    await injectFault(stack.accounts.url, { kind: 'slow', delayMs: 1500 });
    expect(errorOf((await api.form('/swap', { code: await code() })).body)).toBe('upstream_timeout');
  });

  it('GET /, /healthz and /readyz (200)', async () => {
    expect((await api.send('GET', '/')).status).toBe(200);
    expect((await api.send('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await api.send('GET', '/readyz')).body).toMatchObject({ status: 'ready' });
  });

  it('GET /metrics: 401 without or with a wrong token, 200 text with it', async () => {
    expect((await api.send('GET', '/metrics')).status).toBe(401);
    const wrong = await api.send('GET', '/metrics', { headers: { Authorization: 'Bearer nope' } });
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    const ok = await api.send('GET', '/metrics', { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('token_swap_http_requests_total');
    expect(ok.body).toContain(`route="${OPENAPI_PATH}"`);
  });

  it('OPTIONS: 204 for a listed origin, 403 for another', async () => {
    const preflight = (origin: string) =>
      api.send('OPTIONS', '/swap', {
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
      });
    expect((await preflight(ORIGIN)).headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect((await api.send('OPTIONS', '/refresh')).status).toBe(204);
    expect((await preflight('https://evil.example.com')).status).toBe(403);
  });

  it('echoes a sane X-Request-Id', async () => {
    const answer = await api.send('GET', '/healthz', { headers: { 'X-Request-Id': 'req.42:a-b_c' } });
    expect(answer.headers.get('x-request-id')).toBe('req.42:a-b_c');
  });
});

describe('a service with sealing, CORS and a metrics token: the OAuth 2.0 endpoints', () => {
  let stack: Stack;
  let api: Client;

  beforeAll(async () => {
    stack = await startStack({ env: { ENCRYPTION_SECRET: SECRET_A, CORS_ORIGINS: ORIGIN } });
    api = await clientFor(stack.service.url);
  });
  afterAll(() => stack.close());

  const token = async (fields: Record<string, string>, headers: Record<string, string> = {}) => {
    expect(api.contract.requestProblems('POST', '/token', FORM, fields)).toEqual([]);
    return api.form('/token', fields, headers);
  };
  const exchange = async () => ({
    grant_type: 'authorization_code',
    code: (await authorize(stack.accounts.url)).code,
    redirect_uri: REDIRECT_URI,
    client_id: CLIENT_ID,
  });

  it('GET /.well-known/oauth-authorization-server: the metadata', async () => {
    const answer = await api.send('GET', '/.well-known/oauth-authorization-server');
    expect(answer.documentedAs).toBe('GET /.well-known/oauth-authorization-server 200');
    expect((await api.send('POST', '/.well-known/oauth-authorization-server')).status).toBe(405);
  });

  it('POST /token: a code exchange, a refresh, and each error kind', async () => {
    const exchanged = await token(await exchange());
    expect(exchanged.documentedAs).toBe('POST /token 200');
    const refresh_token = (exchanged.body as { refresh_token: string }).refresh_token;
    const base = { grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token };
    expect((await token(base)).documentedAs).toBe('POST /token 200');
    expect((await token({ ...base, scope: 'streaming' })).documentedAs).toBe('POST /token 400');
    // The request schema lists the grant types; the service answers any other with its own error.
    const unsupported = await api.form('/token', { ...base, grant_type: 'password' });
    expect(unsupported.documentedAs).toBe('POST /token 400');
    expect(errorOf(unsupported.body)).toBe('unsupported_grant_type');
    expect((await token({ ...base, client_id: 'nobody' })).documentedAs).toBe('POST /token 401');
    const basic = await token(await exchange(), { Authorization: `Basic ${btoa(`${CLIENT_ID}:secret`)}` });
    expect(basic.documentedAs).toBe('POST /token 401');
    expect(basic.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect((await api.send('GET', '/token')).documentedAs).toBe('GET /token 405');
    const preflight = await api.send('OPTIONS', '/token', {
      headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.documentedAs).toBe('OPTIONS /token 204');
  });
});

describe('a service with low rate limits', () => {
  let stack: Stack;
  let api: Client;

  beforeAll(async () => {
    stack = await startStack({
      env: { RATE_LIMIT_SWAP_PER_MINUTE: '3', RATE_LIMIT_REFRESH_PER_MINUTE: '1' },
    });
    api = await clientFor(stack.service.url);
  });
  afterAll(() => stack.close());

  it('answers with RateLimit headers, then 429 with Retry-After once the budget is spent', async () => {
    const first = await api.form('/swap', { code: (await authorize(stack.accounts.url)).code });
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit')).toMatch(/^swap;r=2;t=\d+$/);
    expect(first.headers.get('ratelimit-policy')).toBe('swap;q=3;w=60');

    await injectFault(stack.accounts.url, { kind: 'rate-limit', retryAfter: 3 });
    const upstream = await api.form('/api/token', { code: (await authorize(stack.accounts.url)).code });
    expect(upstream.status).toBe(429);
    expect(upstream.headers.get('ratelimit')).toMatch(/^swap;r=1;t=/);

    expect((await api.form('/swap', {})).status).toBe(400);
    const limited = await api.form('/swap', { code: 'x' });
    expect(limited.documentedAs).toBe('POST /swap 429');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('ratelimit')).toMatch(/^swap;r=0;t=\d+$/);

    expect((await api.form('/refresh', { refresh_token: 'AQunknown' })).status).toBe(400);
    expect(errorOf((await api.form('/refresh', { refresh_token: 'AQunknown' })).body)).toBe('rate_limited');
  });

  it('OPTIONS: 405 when no origin is listed', async () => {
    const answer = await api.send('OPTIONS', '/refresh', { headers: { Origin: ORIGIN } });
    expect(answer.status).toBe(405);
  });
});

describe('a service whose circuit breaker opens after one failure', () => {
  let stack: Stack;
  let api: Client;

  beforeAll(async () => {
    stack = await startStack({
      env: { BREAKER_FAILURE_THRESHOLD: '1', BREAKER_COOLDOWN_MS: '60000', ...UNSEALED },
    });
    api = await clientFor(stack.service.url);
  });
  afterAll(() => stack.close());

  it('502, then 503 with Retry-After without calling Spotify, and /readyz degraded', async () => {
    await injectFault(stack.accounts.url, { kind: 'status', status: 503 });
    expect((await api.form('/swap', { code: (await authorize(stack.accounts.url)).code })).status).toBe(502);
    const open = await api.form('/refresh', { refresh_token: 'AQunknown' });
    expect(errorOf(open.body)).toBe('temporarily_unavailable');
    expect(Number(open.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const ready = await api.send('GET', '/readyz');
    expect(ready.documentedAs).toBe('GET /readyz 200');
    expect(ready.body).toMatchObject({
      status: 'degraded',
      checks: { upstream: { ok: false, shared: true } },
    });
  });
});

describe('a service at its concurrency cap', () => {
  let stack: Stack;
  let api: Client;

  beforeAll(async () => {
    stack = await startStack({ env: { UPSTREAM_MAX_CONCURRENCY: '1', UPSTREAM_QUEUE_TIMEOUT_MS: '0' } });
    api = await clientFor(stack.service.url);
  });
  afterAll(() => stack.close());

  it('503 with Retry-After: 1 for the call that finds no free slot', async () => {
    const codes = [(await authorize(stack.accounts.url)).code, (await authorize(stack.accounts.url)).code];
    await injectFault(stack.accounts.url, { kind: 'slow', delayMs: 400 });
    const before = await tokenCalls(stack.accounts.url);
    const slow = api.form('/swap', { code: codes[0] ?? '' });
    // The slow call holds the one slot once it has reached Spotify.
    await expect.poll(() => tokenCalls(stack.accounts.url)).toBe(before + 1);
    const rejected = await api.form('/swap', { code: codes[1] ?? '' });
    expect(rejected.documentedAs).toBe('POST /swap 503');
    expect(rejected.headers.get('retry-after')).toBe('1');
    expect((await slow).status).toBe(200);
  });
});

describe('a deployment of named apps only, with rotation', () => {
  const IOS = {
    clientId: 'ios-client-id',
    clientSecret: 'ios-client-secret',
    redirectUri: 'myapp://callback',
  };
  const WEB = { clientId: 'web-client-id', clientSecret: 'web-client-secret', redirectUri: REDIRECT_URI };
  let sandbox: Sandbox;
  let accounts: Listening;
  let stack: Stack;
  let api: Client;

  beforeAll(async () => {
    sandbox = createSandbox({
      clients: [
        { clientId: IOS.clientId, clientSecret: IOS.clientSecret, redirectUris: [IOS.redirectUri] },
        { clientId: WEB.clientId, clientSecret: WEB.clientSecret, redirectUris: [WEB.redirectUri] },
      ],
      autoApprove: true,
      rotateRefreshTokens: true,
    });
    accounts = await listen(sandbox.app.fetch);
    stack = await startStack({
      env: {
        SPOTIFY_CLIENT_ID: undefined,
        SPOTIFY_CLIENT_SECRET: undefined,
        SPOTIFY_REDIRECT_URI: undefined,
      },
      configFile: {
        apps: {
          ios: {
            clientId: IOS.clientId,
            clientSecret: IOS.clientSecret,
            redirectUris: [IOS.redirectUri],
            encryptionSecrets: [SECRET_B],
          },
          web: {
            clientId: WEB.clientId,
            clientSecret: WEB.clientSecret,
            redirectUris: [WEB.redirectUri],
            corsOrigins: [ORIGIN],
            encryptionSecrets: [SECRET_A],
          },
        },
      },
      accounts: { sandbox, listening: accounts },
    });
    api = await clientFor(stack.service.url);
  });
  afterAll(async () => {
    await stack.close();
    await accounts.close();
  });

  const codeFor = async (app: { clientId: string; redirectUri: string }) =>
    (await authorize(accounts.url, { client_id: app.clientId, redirect_uri: app.redirectUri })).code;

  it('POST /apps/{app}/token and the per-app metadata; the root metadata is a 404 without a root app', async () => {
    const fields = {
      grant_type: 'authorization_code',
      code: await codeFor(WEB),
      redirect_uri: WEB.redirectUri,
      client_id: WEB.clientId,
    };
    expect(api.contract.requestProblems('POST', '/apps/web/token', FORM, fields)).toEqual([]);
    expect((await api.form('/apps/web/token', fields)).documentedAs).toBe('POST /apps/{app}/token 200');
    // `{app}` lists the configured apps: an unknown one matches no documented path.
    expect((await api.form('/apps/nope/token', fields)).documentedAs).toBe('* (unlisted) 404');
    const metadata = await api.send('GET', '/.well-known/oauth-authorization-server/apps/ios');
    expect(metadata.documentedAs).toBe('GET /.well-known/oauth-authorization-server/apps/{app} 200');
    const root = await api.send('GET', '/.well-known/oauth-authorization-server');
    expect(root.documentedAs).toBe('GET /.well-known/oauth-authorization-server 404');
  });

  it('serves the document with the app names as the values of {app}, and without the root paths', async () => {
    const served = await api.send('GET', OPENAPI_PATH);
    expect(served.body).toEqual(openApiDocument({ apps: ['ios', 'web'], defaultApp: false }));
    expect((await api.form('/swap', { code: 'x' })).documentedAs).toBe('* (unlisted) 404');
    expect((await api.form('/apps/nope/swap', { code: 'x' })).documentedAs).toBe('* (unlisted) 404');
  });

  it('swaps and refreshes with a rotated refresh token on every per-app path', async () => {
    const swapped = await api.form('/apps/ios/swap', { code: await codeFor(IOS) });
    let token = (swapped.body as { refresh_token: string }).refresh_token;
    expect(token).toMatch(/^sts2\./);
    for (const path of ['/apps/ios/refresh', '/apps/ios/api/refresh_token']) {
      const refreshed = await api.form(path, { refresh_token: token });
      expect(refreshed.status).toBe(200);
      token = (refreshed.body as { refresh_token: string }).refresh_token;
      expect(token).toMatch(/^sts2\./);
    }
    const unsealed = await api.json('/apps/web/api/token', { code: await codeFor(WEB) });
    expect(unsealed.status).toBe(200);
    const rotated = await api.form('/apps/web/refresh', {
      refresh_token: (unsealed.body as { refresh_token: string }).refresh_token,
    });
    expect(rotated.body).toHaveProperty('refresh_token');
  });

  it('revokes a login on a per-app path: its newest rotated token refreshes no more', async () => {
    const swapped = await api.form('/apps/ios/swap', { code: await codeFor(IOS) });
    const first = (swapped.body as { refresh_token: string }).refresh_token;
    const refreshed = await api.form('/apps/ios/refresh', { refresh_token: first });
    const newest = (refreshed.body as { refresh_token: string }).refresh_token;
    expect((await api.form('/apps/ios/revoke', { token: first })).documentedAs).toBe(
      'POST /apps/{app}/revoke 200',
    );
    expect(errorOf((await api.form('/apps/ios/refresh', { refresh_token: newest })).body)).toBe(
      'invalid_grant',
    );
  });

  it('errors on per-app paths are documented too', async () => {
    expect((await api.send('GET', '/apps/ios/swap')).status).toBe(405);
    expect((await api.form('/apps/ios/refresh', { refresh_token: 'sts1.forged' })).status).toBe(400);
    const preflight = await api.send('OPTIONS', '/apps/web/swap', {
      headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect((await api.send('OPTIONS', '/apps/ios/swap', { headers: { Origin: ORIGIN } })).status).toBe(405);
  });
});

describe('a service with sealing and CORS: the session endpoints', () => {
  const SESSION = { Origin: ORIGIN, 'X-CSRF': '1' };
  let stack: Stack;
  let api: Client;

  beforeAll(async () => {
    stack = await startStack({
      env: { CORS_ORIGINS: ORIGIN },
      configFile: {
        apps: {
          web: {
            clientId: CLIENT_ID,
            clientSecret: CLIENT_SECRET,
            redirectUris: [REDIRECT_URI],
            corsOrigins: [ORIGIN],
            encryptionSecrets: [SECRET_B],
          },
        },
      },
    });
    api = await clientFor(stack.service.url);
  });
  afterAll(() => stack.close());

  it('documents a session from swap to logout, its refusals and its preflights, at the root and per app', async () => {
    for (const [prefix, template] of [
      ['', ''],
      ['/apps/web', '/apps/{app}'],
    ] as const) {
      const { code } = await authorize(stack.accounts.url);
      const swapped = await api.form(`${prefix}/session/swap`, { code, redirect_uri: REDIRECT_URI }, SESSION);
      expect(swapped.documentedAs).toBe(`POST ${template}/session/swap 200`);
      const cookie = swapped.headers.getSetCookie()[0]?.split(';')[0] ?? '';
      const withCookie = { ...SESSION, Cookie: cookie };
      expect((await api.form(`${prefix}/session/token`, {}, withCookie)).documentedAs).toBe(
        `POST ${template}/session/token 200`,
      );
      expect((await api.form(`${prefix}/session/logout`, {}, withCookie)).documentedAs).toBe(
        `POST ${template}/session/logout 200`,
      );
      expect((await api.form(`${prefix}/session/token`, {}, SESSION)).documentedAs).toBe(
        `POST ${template}/session/token 401`,
      );
      expect((await api.form(`${prefix}/session/token`, {}, { Origin: ORIGIN })).documentedAs).toBe(
        `POST ${template}/session/token 403`,
      );
      const preflight = (origin: string) =>
        api.send('OPTIONS', `${prefix}/session/token`, {
          headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
        });
      expect((await preflight(ORIGIN)).documentedAs).toBe(`OPTIONS ${template}/session/token 204`);
      expect((await preflight('https://other.example')).documentedAs).toBe(
        `OPTIONS ${template}/session/token 403`,
      );
    }
  });
});

describe('a service with sealing, CORS and the Web API proxy', () => {
  const SESSION = { Origin: ORIGIN, 'X-CSRF': '1' };
  let stack: Stack;
  let api: Client;

  beforeAll(async () => {
    stack = await startStack({
      env: { CORS_ORIGINS: ORIGIN, API_PROXY_PATHS: 'GET /v1/me, GET /v1/me/player, PUT /v1/me/player/play' },
      configFile: {
        apps: {
          web: {
            clientId: CLIENT_ID,
            clientSecret: CLIENT_SECRET,
            redirectUris: [REDIRECT_URI],
            corsOrigins: [ORIGIN],
            encryptionSecrets: [SECRET_B],
            apiProxyPaths: ['GET /v1/me'],
          },
          plain: {
            clientId: CLIENT_ID,
            clientSecret: CLIENT_SECRET,
            redirectUris: [REDIRECT_URI],
            encryptionSecrets: [SECRET_B],
          },
        },
      },
    });
    api = await clientFor(stack.service.url);
  });
  afterAll(() => stack.close());

  it('documents the answers passed back from Spotify and the refusals, at the root and per app', async () => {
    for (const [prefix, template] of [
      ['', ''],
      ['/apps/web', '/apps/{app}'],
    ] as const) {
      const { code } = await authorize(stack.accounts.url, {
        scope: 'user-read-email user-read-playback-state user-modify-playback-state',
      });
      const swapped = await api.form(`${prefix}/session/swap`, { code, redirect_uri: REDIRECT_URI }, SESSION);
      const cookie = swapped.headers.getSetCookie()[0]?.split(';')[0] ?? '';
      const headers = { ...SESSION, Cookie: cookie };
      const at = `${template}/spotify/v1/{path}`;
      expect((await api.send('GET', `${prefix}/spotify/v1/me`, { headers })).documentedAs).toBe(
        `GET ${at} 200`,
      );
      expect((await api.send('GET', `${prefix}/spotify/v1/me`, { headers: SESSION })).documentedAs).toBe(
        `GET ${at} 401`,
      );
      expect((await api.send('GET', `${prefix}/spotify/v1/me/following`, { headers })).documentedAs).toBe(
        `GET ${at} 403`,
      );
      await injectFault(stack.accounts.url, { kind: 'rate-limit', retryAfter: 3, target: 'web-api' });
      expect((await api.send('GET', `${prefix}/spotify/v1/me`, { headers })).documentedAs).toBe(
        `GET ${at} 429`,
      );
      await injectFault(stack.accounts.url, { kind: 'status', status: 503, target: 'web-api' });
      expect((await api.send('GET', `${prefix}/spotify/v1/me`, { headers })).documentedAs).toBe(
        `GET ${at} 5XX`,
      );
      const preflight = (origin: string) =>
        api.send('OPTIONS', `${prefix}/spotify/v1/me`, {
          headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' },
        });
      expect((await preflight(ORIGIN)).documentedAs).toBe(`OPTIONS ${at} 204`);
      expect((await preflight('https://other.example')).documentedAs).toBe(`OPTIONS ${at} 403`);
      if (prefix !== '') continue;
      expect((await api.send('GET', '/spotify/v1/me/player', { headers })).documentedAs).toBe(
        `GET ${at} 204`,
      );
      const play = await api.send('PUT', '/spotify/v1/me/player/play', {
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: '{}',
      });
      expect(play.documentedAs).toBe(`PUT ${at} 404`);
    }
    expect((await api.send('GET', '/apps/plain/spotify/v1/me', { headers: SESSION })).documentedAs).toBe(
      'GET /apps/{app}/spotify/v1/{path} 404',
    );
  });
});

describe('a service with a bug', () => {
  let service: Listening;
  let api: Client;

  beforeAll(async () => {
    const config = loadConfig({
      SPOTIFY_CLIENT_ID: CLIENT_ID,
      SPOTIFY_CLIENT_SECRET: CLIENT_SECRET,
      SPOTIFY_REDIRECT_URI: REDIRECT_URI,
      ENCRYPTION_SECRET: SECRET_A,
    });
    const app = createApp(config, {
      readiness: async () => {
        throw new Error('a readiness check with a bug');
      },
    });
    service = await listen(app.fetch);
    api = await clientFor(service.url);
  });
  afterAll(() => service.close());

  it('500: server_error, nothing more', async () => {
    const answer = await api.send('GET', '/readyz');
    expect(answer.body).toEqual({
      error: 'server_error',
      error_description: 'The token swap service hit an unexpected error',
    });
  });

  it('501 on /revoke where the runtime keeps no login store', async () => {
    const answer = await api.form('/revoke', { token: 'sts2.anything' });
    expect(answer.documentedAs).toBe('POST /revoke 501');
    expect(errorOf(answer.body)).toBe('revocation_unavailable');
  });

  it('404 on /metrics where the runtime collects none', async () => {
    expect((await api.send('GET', '/metrics')).documentedAs).toBe('GET /metrics 404');
  });
});

/** Every test of a suite, at any depth. */
function testsOf(suite: Readonly<RunnerTestSuite | RunnerTestFile>): RunnerTask[] {
  return suite.tasks.flatMap((task) => (task.type === 'suite' ? testsOf(task) : [task]));
}

/**
 * After the whole file, whatever order its tests ran in: every documented path and every listed status
 * was checked against a real answer. A filtered run (`-t`, `.only`) does not exercise them all, so
 * it is not held to this.
 */
let file: Readonly<RunnerTestFile> | undefined;
beforeEach(({ task }) => {
  file = task.file;
});
afterAll(() => {
  if (!file || testsOf(file).some((test) => test.mode !== 'run')) return;
  const templates = new Set([...covered].map((entry) => entry.split(' ')[1]));
  expect([...templates].sort()).toEqual(
    expect.arrayContaining(Object.keys(openApiDocument().paths as object).sort()),
  );
  const statuses = new Set([...covered].map((entry) => entry.split(' ').at(-1)));
  for (const status of [
    '200',
    '204',
    '400',
    '401',
    '403',
    '404',
    '405',
    '413',
    '415',
    '429',
    '4XX',
    '500',
    '502',
    '503',
    '504',
  ]) {
    expect(statuses, status).toContain(status);
  }
});
