/**
 * The two secret-bearing steps a swap service does for an app that cannot keep a secret:
 * `swap` (authorization code → tokens) and `refresh` (refresh token → new access token).
 */
import { findRedirectUri } from '../shared/redirect-uri.js';
import type { AppConfig } from './config.js';
import { jsonResponse, OAuthError } from './errors.js';
import type { Logger } from './logger.js';
import { optionalCodeVerifier, optionalRedirectUri, readParams, requiredToken } from './params.js';
import { createSealer, type Sealer } from './sealing.js';
import {
  processTokenResponse,
  type TokenGrant,
  type TokenResponse,
  tokenRequest,
  upstreamFailure,
} from './upstream.js';

export interface TokenHandlerDeps {
  fetch: typeof fetch;
  logger: Logger;
}

export interface TokenHandlers {
  swap(request: Request, log: Logger): Promise<Response>;
  refresh(request: Request, log: Logger): Promise<Response>;
}

export function createTokenHandlers(app: AppConfig, deps: TokenHandlerDeps): TokenHandlers {
  const sealer: Sealer | undefined =
    app.encryptionSecrets.length > 0 ? createSealer(app.encryptionSecrets, app.clientId) : undefined;
  const defaultRedirectUri = app.redirectUris[0];

  /** One call to Spotify, never retried here: a code is single use (wire-facts §1). */
  async function callSpotify(grant: TokenGrant, log: Logger): Promise<TokenResponse> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      const response = await tokenRequest(app, grant, {
        fetch: deps.fetch,
        signal: AbortSignal.timeout(app.upstreamTimeoutMs),
      });
      outcome = String(response.status);
      return await processTokenResponse(response);
    } catch (cause) {
      const failure = upstreamFailure(cause, app.upstreamTimeoutMs);
      if (!(cause instanceof OAuthError)) {
        outcome = failure.error;
      }
      if (failure.error === 'invalid_client') {
        log.error(
          { app: app.name },
          'Spotify refused the client credentials: check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET',
        );
      }
      throw failure;
    } finally {
      log.debug(
        { app: app.name, grant: grant.grant_type, upstreamStatus: outcome, upstreamMs: elapsed(started) },
        'spotify token call',
      );
    }
  }

  async function sealed(tokens: TokenResponse): Promise<TokenResponse> {
    if (sealer && tokens.refresh_token !== undefined) {
      return { ...tokens, refresh_token: await sealer.seal(tokens.refresh_token) };
    }
    return tokens;
  }

  return {
    async swap(request, log) {
      const params = await readParams(request);
      const code = requiredToken(params, 'code');
      const codeVerifier = optionalCodeVerifier(params);
      const requested = optionalRedirectUri(params);

      // The client's redirect URI is used only when it is on the allowlist; otherwise the default
      // goes upstream and Spotify decides (it must equal what /authorize got).
      let redirectUri = defaultRedirectUri;
      if (requested !== undefined) {
        if (findRedirectUri(app.redirectUris, requested)) {
          redirectUri = requested;
        } else {
          log.warn({ app: app.name }, 'redirect_uri is not on the allowlist; using the default one instead');
        }
      }
      if (redirectUri === undefined) {
        throw new OAuthError(500, 'server_error', 'No redirect URI is configured');
      }

      const grant: TokenGrant = { grant_type: 'authorization_code', code, redirect_uri: redirectUri };
      if (codeVerifier !== undefined) {
        grant.code_verifier = codeVerifier;
      }
      const tokens = await callSpotify(grant, log);
      if (tokens.refresh_token === undefined) {
        log.warn({ app: app.name }, 'Spotify returned no refresh token on a code exchange');
      }
      return jsonResponse(200, await sealed(tokens));
    },

    async refresh(request, log) {
      const params = await readParams(request);
      const presented = requiredToken(params, 'refresh_token');
      // A token that does not unseal never reaches Spotify: no rate budget spent on forgeries.
      const refreshToken = sealer ? await sealer.unseal(presented) : presented;
      const tokens = await callSpotify({ grant_type: 'refresh_token', refresh_token: refreshToken }, log);
      // Rotated tokens are sealed like the first one, or the next refresh would fail (bih's bug).
      return jsonResponse(200, await sealed(tokens));
    },
  };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
