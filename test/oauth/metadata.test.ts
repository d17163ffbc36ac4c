/**
 * RFC 8414 metadata and the multi-app side of POST /token over real sockets: the issuer (PUBLIC_URL,
 * or the request's own origin), the path-inserted per-app form, which app a client id selects at the
 * root, the root /revoke following client_id, the shared rate budgets, and PUBLIC_URL's rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { ConfigError, loadConfig } from '../../src/server/config/index.js';
import { SPOTIFY_SCOPES } from '../../src/shared/scopes.js';
import { type Listening, listen } from '../helpers/listen.js';
import {
  authorize,
  CLIENT_ID,
  CLIENT_SECRET,
  postForm,
  REDIRECT_URI,
  SECRET_A,
  SECRET_B,
  stacksClosedAfterEach,
} from '../helpers/stack.js';

const WEB = {
  clientId: 'web-client-id',
  clientSecret: 'web-client-secret',
  redirectUri: 'https://app.example.com/cb',
};
const METADATA = '/.well-known/oauth-authorization-server';

let sandbox: Sandbox;
let accounts: Listening;
beforeAll(async () => {
  sandbox = createSandbox({
    clients: [
      { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] },
      { clientId: WEB.clientId, clientSecret: WEB.clientSecret, redirectUris: [WEB.redirectUri] },
    ],
    autoApprove: true,
  });
  accounts = await listen(sandbox.app.fetch);
});
afterAll(() => accounts.close());

const start = stacksClosedAfterEach();
const webApp = {
  clientId: WEB.clientId,
  clientSecret: WEB.clientSecret,
  redirectUris: [WEB.redirectUri],
  encryptionSecrets: [SECRET_B],
};
const withWeb = (extra: Record<string, unknown> = {}) =>
  start({ accounts: { sandbox, listening: accounts }, configFile: { apps: { web: webApp, ...extra } } });

async function webCode(): Promise<string> {
  return (await authorize(accounts.url, { client_id: WEB.clientId, redirect_uri: WEB.redirectUri })).code;
}

describe('GET /.well-known/oauth-authorization-server', () => {
  it("describes the service (RFC 8414 §2): the request's own origin as issuer when PUBLIC_URL is unset", async () => {
    const stack = await start({ accounts: { sandbox, listening: accounts } });
    const response = await fetch(`${stack.service.url}${METADATA}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const base = stack.service.url.replace(/\/$/, '');
    expect(await response.json()).toEqual({
      issuer: base,
      authorization_endpoint: `${accounts.url}/authorize`,
      token_endpoint: `${base}/token`,
      revocation_endpoint: `${base}/revoke`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
      scopes_supported: [...SPOTIFY_SCOPES],
      // A sealing app with a login store binds refresh tokens to DPoP keys (docs/sealed-tokens.md).
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA', 'RS256', 'PS256'],
      spotify_client_id: CLIENT_ID,
    });
    const root = (await (await fetch(`${stack.service.url}/`)).json()) as {
      endpoints: Record<string, string>;
    };
    expect(Object.keys(root.endpoints)).toContain(`GET ${METADATA}`);
    expect(Object.keys(root.endpoints)).toContain('POST /token');
    const post = await fetch(`${stack.service.url}${METADATA}`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('names PUBLIC_URL as issuer, and every endpoint under it', async () => {
    const stack = await start({
      accounts: { sandbox, listening: accounts },
      env: { PUBLIC_URL: 'https://swap.example.com/' },
    });
    const body = (await (await fetch(`${stack.service.url}${METADATA}`)).json()) as Record<string, string>;
    expect(body.issuer).toBe('https://swap.example.com');
    expect(body.token_endpoint).toBe('https://swap.example.com/token');
    expect(body.revocation_endpoint).toBe('https://swap.example.com/revoke');
  });

  it('per app at the path-inserted form (RFC 8414 §3.1), issuer /apps/{name}; an unknown app is a JSON 404', async () => {
    const stack = await withWeb();
    const base = stack.service.url.replace(/\/$/, '');
    const body = (await (await fetch(`${base}${METADATA}/apps/web`)).json()) as Record<string, string>;
    expect(body).toMatchObject({
      issuer: `${base}/apps/web`,
      token_endpoint: `${base}/apps/web/token`,
      revocation_endpoint: `${base}/apps/web/revoke`,
    });
    const unknown = await fetch(`${base}${METADATA}/apps/nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'not_found' });
  });

  it('without an app at the root, the root metadata is a JSON 404 that points to the per-app ones', async () => {
    const stack = await start({
      accounts: { sandbox, listening: accounts },
      env: { SPOTIFY_CLIENT_ID: '', SPOTIFY_CLIENT_SECRET: '', SPOTIFY_REDIRECT_URI: '' },
      configFile: { apps: { web: webApp } },
    });
    const response = await fetch(`${stack.service.url}${METADATA}`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error_description: string }).error_description).toContain('/apps/');
  });
});

describe('POST /token with several apps', () => {
  it("at the root, client_id selects the app; /apps/{name}/token takes only that app's", async () => {
    const stack = await withWeb();
    const base = stack.service.url.replace(/\/$/, '');
    const fields = async () => ({
      grant_type: 'authorization_code',
      code: await webCode(),
      redirect_uri: WEB.redirectUri,
      client_id: WEB.clientId,
    });
    const atRoot = await postForm(`${base}/token`, await fields());
    expect(atRoot.status).toBe(200);
    const { refresh_token } = (await atRoot.json()) as { refresh_token: string };
    // Sealed for the web app: its own /refresh opens it, the root's does not.
    expect((await postForm(`${base}/apps/web/refresh`, { refresh_token })).status).toBe(200);
    expect((await postForm(`${base}/refresh`, { refresh_token })).status).toBe(400);
    expect((await postForm(`${base}/apps/web/token`, await fields())).status).toBe(200);

    const wrongApp = await postForm(`${base}/apps/web/token`, {
      grant_type: 'authorization_code',
      code: (await authorize(accounts.url)).code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
    });
    expect(wrongApp.status).toBe(401);
    expect(await wrongApp.json()).toMatchObject({ error: 'invalid_client' });
  });

  it("the root /revoke revokes the token of the app client_id names (the root metadata's revocation endpoint)", async () => {
    const stack = await withWeb();
    const base = stack.service.url.replace(/\/$/, '');
    const exchanged = await postForm(`${base}/token`, {
      grant_type: 'authorization_code',
      code: await webCode(),
      redirect_uri: WEB.redirectUri,
      client_id: WEB.clientId,
    });
    const { refresh_token } = (await exchanged.json()) as { refresh_token: string };
    const revoked = await postForm(`${base}/revoke`, { token: refresh_token, client_id: WEB.clientId });
    expect(revoked.status).toBe(200);
    const after = await postForm(`${base}/token`, {
      grant_type: 'refresh_token',
      refresh_token,
      client_id: WEB.clientId,
    });
    expect(after.status).toBe(400);
    expect(await after.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it("two apps with one client id: the root serves the environment's; without it, the client is sent to its app's path", async () => {
    const twin = {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      redirectUris: [REDIRECT_URI],
      encryptionSecrets: [SECRET_A],
    };
    const withRoot = await start({
      accounts: { sandbox, listening: accounts },
      configFile: { apps: { twin } },
    });
    const fields = async () => ({
      grant_type: 'authorization_code',
      code: (await authorize(accounts.url)).code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
    });
    const rootAnswer = await postForm(`${withRoot.service.url}/token`, await fields());
    const { refresh_token } = (await rootAnswer.json()) as { refresh_token: string };
    expect((await postForm(`${withRoot.service.url}/refresh`, { refresh_token })).status).toBe(200);

    const twinsOnly = await start({
      accounts: { sandbox, listening: accounts },
      env: { SPOTIFY_CLIENT_ID: '', SPOTIFY_CLIENT_SECRET: '', SPOTIFY_REDIRECT_URI: '' },
      configFile: { apps: { left: twin, right: twin } },
    });
    expect(
      twinsOnly.logs.find((line) => String(line.msg).startsWith('these apps share a client id')),
    ).toMatchObject({
      apps: ['left', 'right'],
    });
    const ambiguous = await postForm(`${twinsOnly.service.url}/token`, await fields());
    expect(ambiguous.status).toBe(401);
    expect(await ambiguous.json()).toEqual({
      error: 'invalid_client',
      error_description:
        'This client_id belongs to several apps; use the token endpoint of yours: /apps/left/token, /apps/right/token',
    });
  });
});

describe('POST /token and CORS at the root', () => {
  it("answers every app's origins, and refuses an origin for an app that does not list it, unsent", async () => {
    const ORIGIN = 'https://app.example.com';
    const stack = await withWeb({ web: { ...webApp, corsOrigins: [ORIGIN] } });
    const base = stack.service.url.replace(/\/$/, '');
    const preflight = await fetch(`${base}/token`, {
      method: 'OPTIONS',
      headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    const web = await postForm(
      `${base}/token`,
      {
        grant_type: 'authorization_code',
        code: await webCode(),
        redirect_uri: WEB.redirectUri,
        client_id: WEB.clientId,
      },
      { Origin: ORIGIN },
    );
    expect(web.status).toBe(200);
    expect(web.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const calls = sandbox.stats().byGrant.authorization_code;
    const other = await postForm(
      `${base}/token`,
      {
        grant_type: 'authorization_code',
        code: (await authorize(accounts.url)).code,
        redirect_uri: REDIRECT_URI,
        client_id: CLIENT_ID,
      },
      { Origin: ORIGIN },
    );
    expect(other.status).toBe(403);
    expect(await other.json()).toEqual({
      error: 'invalid_request',
      error_description: 'This origin is not allowed for this app',
    });
    expect(sandbox.stats().byGrant.authorization_code).toBe(calls);
  });
});

describe('POST /token spends the budgets of /swap and /refresh', () => {
  it('a code exchange on /token and one on /swap count against one swap budget', async () => {
    const stack = await start({
      accounts: { sandbox, listening: accounts },
      env: { RATE_LIMIT_SWAP_PER_MINUTE: '2' },
    });
    const base = stack.service.url.replace(/\/$/, '');
    const viaToken = async () =>
      postForm(`${base}/token`, {
        grant_type: 'authorization_code',
        code: (await authorize(accounts.url)).code,
        redirect_uri: REDIRECT_URI,
        client_id: CLIENT_ID,
      });
    const first = await viaToken();
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit')).toMatch(/^swap;r=1;/);
    expect((await postForm(`${base}/swap`, { code: (await authorize(accounts.url)).code })).status).toBe(200);
    const refused = await viaToken();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});

describe('PUBLIC_URL', () => {
  const env = {
    SPOTIFY_CLIENT_ID: 'id',
    SPOTIFY_CLIENT_SECRET: 'secret',
    SPOTIFY_REDIRECT_URI: 'myapp://cb',
    ENCRYPTION_SECRET: SECRET_A,
  };
  const problems = (value: string) => {
    try {
      loadConfig({ ...env, PUBLIC_URL: value });
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.problems.map((problem) => problem.message);
    }
  };

  it('is https, or http on loopback, with no path, query or credentials', () => {
    expect(problems('https://swap.example.com')).toEqual([]);
    expect(problems('http://127.0.0.1:3000/')).toEqual([]);
    expect(problems('http://swap.example.com')).toEqual([
      'must use https (plain http is allowed on loopback only)',
    ]);
    expect(problems('https://swap.example.com/base')).toEqual([
      'must have no path (the service serves its endpoints at the root)',
    ]);
    expect(problems('https://swap.example.com/?a=b')).toEqual(['must have no query or fragment']);
    expect(problems('https://user:pw@swap.example.com')).toEqual(['must not hold credentials']);
    expect(problems('swap.example.com')).toEqual(['"swap.example.com" is not an absolute URL']);
  });
});
