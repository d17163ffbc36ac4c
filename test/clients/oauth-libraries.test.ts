/**
 * The whole flow with OAuth client libraries nobody here wrote, each used as its documentation says,
 * against `token-swap serve --sandbox` as a user starts it: discovery from the RFC 8414 metadata,
 * authorize at the sandbox (auto-approve, as test/helpers/stack.ts `authorize()`), the code exchange
 * and a refresh at `/token`, and a revocation at the metadata's revocation endpoint, after which the
 * token is refused. The sandbox runs on loopback http, so each library is told to allow plain http
 * the way its documentation says to for local testing (openid-client's and oauth4webapi's
 * `allowInsecureRequests`, the Python libraries' *_INSECURE_TRANSPORT).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateCodeVerifier, OAuth2Client } from '@badgateway/oauth2-client';
import { exportJWK, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_CLIENT_ID } from '../../src/sandbox/index.js';
import { SEALED_PREFIX } from '../../src/server/sealing/index.js';
import { type CliRun, runCli } from '../helpers/cli.js';

const REDIRECT_URI = 'http://127.0.0.1/callback';
const SCOPE = 'user-read-email user-read-private';
const PYTHON_SCRIPT = fileURLToPath(new URL('./oauth_libraries.py', import.meta.url));

let server: CliRun;
let serviceUrl: string;

beforeAll(async () => {
  server = runCli(['serve', '--sandbox', '--auto-approve', '--port', '0']);
  const [, url] = await server.waitFor(/Swap service\s+(http:\/\/\S+)/);
  serviceUrl = (url ?? '').replace(/\/$/, '');
});
afterAll(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
});

/** The sandbox's auto-approve answers the authorize URL with a redirect to the callback, code and all. */
async function follow(authorizeUrl: string | URL): Promise<URL> {
  const response = await fetch(authorizeUrl, { redirect: 'manual' });
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location') ?? '');
}

async function refusedAfterRevocation(refreshToken: string) {
  const response = await fetch(`${serviceUrl}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: SANDBOX_CLIENT_ID,
    }),
  });
  expect(response.status).toBe(400);
  expect(((await response.json()) as { error: string }).error).toBe('invalid_grant');
}

describe('openid-client v6', () => {
  it('discovers, exchanges a PKCE code, refreshes and revokes', async () => {
    const config = await client.discovery(new URL(serviceUrl), SANDBOX_CLIENT_ID, undefined, client.None(), {
      algorithm: 'oauth2',
      execute: [client.allowInsecureRequests],
    });
    expect(config.serverMetadata().token_endpoint).toBe(`${serviceUrl}/token`);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const authorizeUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const tokens = await client.authorizationCodeGrant(config, await follow(authorizeUrl), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.refresh_token?.startsWith(SEALED_PREFIX)).toBe(true);
    expect(tokens.expiresIn()).toBeGreaterThan(0);
    const refreshToken = tokens.refresh_token ?? '';
    const refreshed = await client.refreshTokenGrant(config, refreshToken);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    await client.tokenRevocation(config, refreshToken, { token_type_hint: 'refresh_token' });
    await refusedAfterRevocation(refreshToken);
  });
});

/**
 * Neither library sends a DPoP proof with a revocation (RFC 9449 defines none), and the service
 * revokes a bound token only with one: the test signs it with the library's key pair, as an app would.
 */
async function revokeWithProof(refreshToken: string, keyPair: CryptoKeyPair): Promise<Response> {
  const dpop = await new SignJWT({
    htm: 'POST',
    htu: `${serviceUrl}/revoke`,
    iat: Math.floor(Date.now() / 1000),
    jti: crypto.randomUUID(),
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(keyPair.publicKey) })
    .sign(keyPair.privateKey);
  return fetch(`${serviceUrl}/revoke`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: dpop },
    body: new URLSearchParams({ token: refreshToken, client_id: SANDBOX_CLIENT_ID }),
  });
}

describe('openid-client v6 with DPoP', () => {
  it('binds the refresh token to its DPoP key: refreshes with the handle, is refused without it', async () => {
    const config = await client.discovery(new URL(serviceUrl), SANDBOX_CLIENT_ID, undefined, client.None(), {
      algorithm: 'oauth2',
      execute: [client.allowInsecureRequests],
    });
    expect(config.serverMetadata().dpop_signing_alg_values_supported).toContain('ES256');
    const keyPair = await client.randomDPoPKeyPair('ES256');
    const DPoP = client.getDPoPHandle(config, keyPair);
    const verifier = client.randomPKCECodeVerifier();
    const authorizeUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const tokens = await client.authorizationCodeGrant(
      config,
      await follow(authorizeUrl),
      { pkceCodeVerifier: verifier },
      undefined,
      { DPoP },
    );
    // RFC 9449 §5: the refresh token is bound, Spotify's access token stays a Bearer token.
    expect(tokens.token_type).toBe('bearer');
    const refreshToken = tokens.refresh_token ?? '';
    const refreshed = await client.refreshTokenGrant(config, refreshToken, undefined, { DPoP });
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    await expect(client.refreshTokenGrant(config, refreshToken)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    const otherKey = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    await expect(
      client.refreshTokenGrant(config, refreshToken, undefined, { DPoP: otherKey }),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
    // tokenRevocation sends no proof: refused, and the token still works.
    await expect(client.tokenRevocation(config, refreshToken)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect((await revokeWithProof(refreshToken, keyPair)).status).toBe(200);
    await expect(client.refreshTokenGrant(config, refreshToken, undefined, { DPoP })).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });
});

describe('oauth4webapi with DPoP', () => {
  it('binds the refresh token to the key of its DPoP handle', async () => {
    const issuer = new URL(serviceUrl);
    const insecure = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
    );
    const app: oauth.Client = { client_id: SANDBOX_CLIENT_ID };
    const auth = oauth.None();
    const keyPair = await oauth.generateKeyPair('ES256');
    const DPoP = oauth.DPoP(app, keyPair);
    const verifier = oauth.generateRandomCodeVerifier();
    const authorizeUrl = new URL(as.authorization_endpoint ?? '');
    authorizeUrl.search = new URLSearchParams({
      client_id: SANDBOX_CLIENT_ID,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: SCOPE,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString();
    const params = oauth.validateAuthResponse(as, app, await follow(authorizeUrl), oauth.expectNoState);
    const exchanged = await oauth.processAuthorizationCodeResponse(
      as,
      app,
      await oauth.authorizationCodeGrantRequest(as, app, auth, params, REDIRECT_URI, verifier, {
        DPoP,
        ...insecure,
      }),
    );
    const refreshToken = exchanged.refresh_token ?? '';
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      app,
      await oauth.refreshTokenGrantRequest(as, app, auth, refreshToken, { DPoP, ...insecure }),
    );
    expect(refreshed.access_token).not.toBe(exchanged.access_token);
    const bare = await oauth.refreshTokenGrantRequest(as, app, auth, refreshToken, insecure);
    await expect(oauth.processRefreshTokenResponse(as, app, bare)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect((await revokeWithProof(refreshToken, keyPair)).status).toBe(200);
    await refusedAfterRevocation(refreshToken);
  });
});

describe('oauth4webapi', () => {
  it('discovers, exchanges a PKCE code, refreshes and revokes', async () => {
    const issuer = new URL(serviceUrl);
    const insecure = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
    );
    const app: oauth.Client = { client_id: SANDBOX_CLIENT_ID };
    const auth = oauth.None();
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const authorizeUrl = new URL(as.authorization_endpoint ?? '');
    authorizeUrl.search = new URLSearchParams({
      client_id: SANDBOX_CLIENT_ID,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: SCOPE,
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString();
    const params = oauth.validateAuthResponse(as, app, await follow(authorizeUrl), state);
    const exchanged = await oauth.processAuthorizationCodeResponse(
      as,
      app,
      await oauth.authorizationCodeGrantRequest(as, app, auth, params, REDIRECT_URI, verifier, insecure),
    );
    const refreshToken = exchanged.refresh_token ?? '';
    expect(refreshToken.startsWith(SEALED_PREFIX)).toBe(true);
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      app,
      await oauth.refreshTokenGrantRequest(as, app, auth, refreshToken, insecure),
    );
    expect(refreshed.access_token).not.toBe(exchanged.access_token);
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, app, auth, refreshToken, insecure),
    );
    await refusedAfterRevocation(refreshToken);
  });
});

describe('@badgateway/oauth2-client', () => {
  it('discovers, exchanges a PKCE code, refreshes and revokes', async () => {
    const oauth2 = new OAuth2Client({
      server: `${serviceUrl}/`,
      clientId: SANDBOX_CLIENT_ID,
      discoveryEndpoint: '/.well-known/oauth-authorization-server',
    });
    const codeVerifier = await generateCodeVerifier();
    const authorizeUrl = await oauth2.authorizationCode.getAuthorizeUri({
      redirectUri: REDIRECT_URI,
      state: 'state-1',
      codeVerifier,
      scope: SCOPE.split(' '),
    });
    const token = await oauth2.authorizationCode.getTokenFromCodeRedirect(await follow(authorizeUrl), {
      redirectUri: REDIRECT_URI,
      state: 'state-1',
      codeVerifier,
    });
    expect(token.refreshToken?.startsWith(SEALED_PREFIX)).toBe(true);
    const refreshed = await oauth2.refreshToken(token);
    expect(refreshed.accessToken).not.toBe(token.accessToken);
    // No new refresh token came back: the library keeps the one it had, as the service asks.
    expect(refreshed.refreshToken).toBe(token.refreshToken);
    await oauth2.revoke(token, 'refresh_token');
    await refusedAfterRevocation(token.refreshToken ?? '');
  });
});

const run = promisify(execFile);

describe.each(['authlib', 'requests-oauthlib'])("Python's %s (Debian's package)", (library) => {
  it('exchanges a PKCE code, refreshes and revokes', async () => {
    // Debian's interpreter, where `apt-get install python3-authlib python3-requests-oauthlib` puts them.
    const { stdout } = await run(
      '/usr/bin/python3',
      [
        PYTHON_SCRIPT,
        library,
        `${serviceUrl}/.well-known/oauth-authorization-server`,
        SANDBOX_CLIENT_ID,
        REDIRECT_URI,
      ],
      { timeout: 20_000 },
    );
    const shape = { token_type: 'Bearer', has_access_token: true, expires_in: 3600, scope: SCOPE };
    expect(JSON.parse(stdout)).toEqual({
      exchange: { ...shape, has_refresh_token: true },
      // The service sent no new refresh token; both libraries keep the one they had, as it asks.
      refresh: { ...shape, has_refresh_token: true },
      revoke: 200,
      after_revoke: 'invalid_grant',
    });
  });
});
