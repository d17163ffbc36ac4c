/**
 * The standard OAuth 2.0 endpoints in the conformance suite (suite.ts registers them for every
 * runtime): the RFC 8414 metadata, and POST /token for both grants and its client and grant-type
 * errors, each refusal before Spotify is called; and a DPoP-bound refresh token (RFC 9449), with
 * proofs of each algorithm the runtime's jose and WebCrypto verify.
 */
import { describe, expect, it } from 'vitest';
import { SPOTIFY_SCOPES } from '../../src/shared/scopes.js';
import { proof, proofKey } from '../helpers/dpop.js';
import { tokenCalls } from '../helpers/sandbox-control.js';
import { authorize, CLIENT_ID, postForm, REDIRECT_URI } from '../helpers/stack.js';
import type { ConformanceTarget } from './suite.js';

const METADATA = '/.well-known/oauth-authorization-server';

export function oauthConformance(target: ConformanceTarget): void {
  const service = (path: string) => `${target.serviceUrl.replace(/\/$/, '')}${path}`;

  async function refusedUnsent(send: () => Promise<Response>, status: number, error: string) {
    const before = await tokenCalls(target.accountsUrl);
    const response = await send();
    expect(await tokenCalls(target.accountsUrl)).toBe(before);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.error).toBe(error);
    expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
    return response;
  }

  async function exchange(fields: Record<string, string> = {}, headers: Record<string, string> = {}) {
    const { code } = await authorize(target.accountsUrl);
    const base = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: CLIENT_ID };
    return postForm(service('/token'), { ...base, ...fields }, headers);
  }

  describe('OAuth 2.0 (RFC 6749, RFC 8414)', () => {
    it('GET /.well-known/oauth-authorization-server: the issuer is the origin asked, the endpoints under it', async () => {
      const response = await fetch(service(METADATA));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(response.headers.get('cache-control')).toBe('no-store');
      const issuer = new URL(target.serviceUrl).origin;
      expect(await response.json()).toEqual({
        issuer,
        authorization_endpoint: `${target.accountsUrl}/authorize`,
        token_endpoint: `${issuer}/token`,
        revocation_endpoint: `${issuer}/revoke`,
        response_types_supported: ['code'],
        response_modes_supported: ['query'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['none'],
        revocation_endpoint_auth_methods_supported: ['none'],
        scopes_supported: [...SPOTIFY_SCOPES],
        dpop_signing_alg_values_supported: ['ES256', 'EdDSA', 'RS256', 'PS256'],
        spotify_client_id: CLIENT_ID,
      });
    });

    it.each(['ES256', 'EdDSA', 'RS256', 'PS256'])(
      'POST /token with a %s DPoP proof: the refresh token is bound, refused unsent without a proof by its key',
      async (alg) => {
        const key = await proofKey(alg);
        const dpop = () => proof(key, 'POST', service('/token'));
        const exchanged = await exchange({}, { DPoP: await dpop() });
        expect(exchanged.status).toBe(200);
        const { refresh_token } = (await exchanged.json()) as { refresh_token: string };
        const refresh = (headers: Record<string, string>) =>
          postForm(
            service('/token'),
            { grant_type: 'refresh_token', refresh_token, client_id: CLIENT_ID },
            headers,
          );
        await refusedUnsent(() => refresh({}), 400, 'invalid_grant');
        const replayed = await dpop();
        expect((await refresh({ DPoP: replayed })).status).toBe(200);
        await refusedUnsent(() => refresh({ DPoP: replayed }), 400, 'invalid_dpop_proof');
      },
    );

    it('POST /token: a code exchange, then a refresh with the granted scope, both as /swap and /refresh answer', async () => {
      const exchanged = await exchange();
      expect(exchanged.status).toBe(200);
      expect(exchanged.headers.get('cache-control')).toBe('no-store');
      expect(exchanged.headers.get('pragma')).toBe('no-cache');
      const body = (await exchanged.json()) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual([
        'access_token',
        'token_type',
        'expires_in',
        'scope',
        'refresh_token',
        'refresh_token_expires_in',
      ]);
      const refreshed = await postForm(service('/token'), {
        grant_type: 'refresh_token',
        refresh_token: String(body.refresh_token),
        client_id: CLIENT_ID,
        scope: 'user-read-email user-read-private',
      });
      expect(refreshed.status).toBe(200);
      expect(((await refreshed.json()) as { expires_in: unknown }).expires_in).toBe(3600);
    });

    it('POST /token with HTTP Basic and an empty password: 200', async () => {
      const { code } = await authorize(target.accountsUrl);
      const response = await postForm(
        service('/token'),
        { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI },
        { Authorization: `Basic ${btoa(`${CLIENT_ID}:`)}` },
      );
      expect(response.status).toBe(200);
    });

    it('POST /token refuses, unsent: a client secret, an unknown client, a missing or unknown grant type, another scope', async () => {
      await refusedUnsent(() => exchange({ client_secret: 'not-here' }), 401, 'invalid_client');
      const basic = await refusedUnsent(
        () => exchange({}, { Authorization: `Basic ${btoa(`${CLIENT_ID}:not-here`)}` }),
        401,
        'invalid_client',
      );
      expect(basic.headers.get('www-authenticate')).toMatch(/^Basic/);
      await refusedUnsent(() => exchange({ client_id: 'nobody' }), 401, 'invalid_client');
      await refusedUnsent(
        () => postForm(service('/token'), { client_id: CLIENT_ID }),
        400,
        'invalid_request',
      );
      await refusedUnsent(
        () => postForm(service('/token'), { client_id: CLIENT_ID, grant_type: 'client_credentials' }),
        400,
        'unsupported_grant_type',
      );
      await refusedUnsent(
        () => exchange({ redirect_uri: 'https://elsewhere.example/cb' }),
        400,
        'invalid_grant',
      );
      const { refresh_token } = (await (await exchange()).json()) as { refresh_token: string };
      await refusedUnsent(
        () =>
          postForm(service('/token'), {
            grant_type: 'refresh_token',
            refresh_token,
            client_id: CLIENT_ID,
            scope: 'streaming',
          }),
        400,
        'invalid_scope',
      );
    });
  });
}
