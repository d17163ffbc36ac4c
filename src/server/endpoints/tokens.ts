/**
 * The two secret-bearing steps a swap service does for an app that cannot keep a secret:
 * `swap` (authorization code → tokens) and `refresh` (refresh token → new access token).
 */
import { base64url, utf8 } from '../../shared/encoding.js';
import { findRedirectUri } from '../../shared/redirect-uri.js';
import type { TokenResponse } from '../../shared/token-response.js';
import { type Answer, jsonAnswer, respond } from '../answer.js';
import type { CoalesceKey, Coalescer } from '../coalesce.js';
import type { AppConfig } from '../config/index.js';
import { OAuthError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { createSealer, SEALED_PREFIX, type Sealer, type SealerFactory } from '../sealing.js';
import { ATTR, type RequestSpan } from '../tracing.js';
import type { SpotifyCaller } from '../upstream/caller.js';
import type { TokenGrant } from '../upstream/token-request.js';
import { optionalCodeVerifier, optionalRedirectUri, readParams, requiredToken } from './params.js';

/** Opens a refresh token sealed by an older service; undefined when it cannot. */
export type LegacyUnsealer = (token: string) => string | undefined;

export interface TokenHandlerDeps {
  caller: SpotifyCaller;
  coalescer: Coalescer;
  metrics: Metrics;
  /** Default: WebCrypto (sealing.ts). */
  createSealer?: SealerFactory;
  /** Present when this runtime can open the app's legacy tokens (LEGACY_ENCRYPTION_SECRET). */
  legacyUnseal?: LegacyUnsealer;
}

/** `span`: the request's server span when tracing is on, the parent of the upstream calls' spans. */
export interface TokenHandlers {
  swap(request: Request, log: Logger, span?: RequestSpan): Promise<Response>;
  refresh(request: Request, log: Logger, span?: RequestSpan): Promise<Response>;
}

function coalesceKey(app: AppConfig, refreshToken: string, migrating: boolean): CoalesceKey {
  // A migrating request must not share the answer of a plain one: only its answer carries the
  // newly sealed token.
  const local = `${app.name}\n${app.clientId}\n${migrating ? 'legacy' : 'current'}\n${refreshToken}`;
  return {
    local,
    // Hashed only when a shared store needs a name it may keep: most refreshes never pay for it.
    digest: async () => base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(local)))),
    secret: refreshToken,
  };
}

export function createTokenHandlers(app: AppConfig, deps: TokenHandlerDeps): TokenHandlers {
  const sealer: Sealer | undefined =
    app.encryptionSecrets.length > 0
      ? (deps.createSealer ?? createSealer)(app.encryptionSecrets, app.clientId)
      : undefined;
  const defaultRedirectUri = app.redirectUris[0];

  async function sealed(tokens: TokenResponse): Promise<TokenResponse> {
    if (sealer && tokens.refresh_token !== undefined) {
      return { ...tokens, refresh_token: await sealer.seal(tokens.refresh_token) };
    }
    return tokens;
  }

  /** The answer to a refresh as it will go on the wire, so that coalesced callers share it whole. */
  async function refreshAnswer(
    refreshToken: string,
    migrating: boolean,
    log: Logger,
    span: RequestSpan | undefined,
  ): Promise<Answer> {
    try {
      let tokens = await deps.caller.call(
        app,
        { grant_type: 'refresh_token', refresh_token: refreshToken },
        log,
        span,
      );
      if (migrating && tokens.refresh_token === undefined) {
        // Hand the client its refresh token sealed the new way, so it replaces the legacy one.
        tokens = { ...tokens, refresh_token: refreshToken };
        log.info({ app: app.name }, 'migrated a refresh token sealed by the Ruby token swap service');
      }
      // Rotated tokens are sealed like the first one, or the next refresh would fail (bih's bug).
      return jsonAnswer(200, await sealed(tokens));
    } catch (error) {
      if (error instanceof OAuthError) return error.toAnswer();
      throw error;
    }
  }

  return {
    async swap(request, log, span) {
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
        // The configuration requires one: this cannot happen, and says so in the log if it does.
        throw new TypeError(`app ${app.name} has no redirect URI`);
      }

      const grant: TokenGrant = { grant_type: 'authorization_code', code, redirect_uri: redirectUri };
      if (codeVerifier !== undefined) {
        grant.code_verifier = codeVerifier;
      }
      const tokens = await deps.caller.call(app, grant, log, span);
      if (tokens.refresh_token === undefined) {
        log.warn({ app: app.name }, 'Spotify returned no refresh token on a code exchange');
      }
      return respond(jsonAnswer(200, await sealed(tokens)));
    },

    async refresh(request, log, span) {
      const params = await readParams(request);
      const presented = requiredToken(params, 'refresh_token', { legacy: deps.legacyUnseal !== undefined });
      // A token that does not unseal never reaches Spotify: no rate budget spent on forgeries.
      let refreshToken = presented;
      let migrating = false;
      if (sealer) {
        const legacy = presented.startsWith(SEALED_PREFIX) ? undefined : deps.legacyUnseal?.(presented);
        if (legacy !== undefined) {
          refreshToken = legacy;
          migrating = true;
        } else {
          refreshToken = await sealer.unseal(presented);
        }
      }
      const answer = await deps.coalescer.run(
        coalesceKey(app, refreshToken, migrating),
        () => refreshAnswer(refreshToken, migrating, log, span),
        (scope) => {
          deps.metrics.coalesced(scope);
          // This request's span has no upstream child: another request's call answered it.
          span?.setAttributes({ [ATTR.coalesced]: scope });
        },
      );
      return respond(answer);
    },
  };
}
