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
import {
  createSealer,
  type Grant,
  isSealedToken,
  type Sealer,
  type SealerFactory,
} from '../sealing/index.js';
import { ATTR, type RequestSpan } from '../tracing.js';
import type { SpotifyCaller } from '../upstream/caller.js';
import type { TokenGrant } from '../upstream/token-request.js';
import {
  asLoginExpired,
  legacyGrant,
  loginEnd,
  loginExpired,
  loginGrant,
  nextGrant,
  type Presented,
  secondsLeft,
} from './grants.js';
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
  /** Injectable for tests: the clock of login lifetimes. */
  now?: () => number;
}

/** `span`: the request's server span when tracing is on, the parent of the upstream calls' spans. */
export interface TokenHandlers {
  swap(request: Request, log: Logger, span?: RequestSpan): Promise<Response>;
  refresh(request: Request, log: Logger, span?: RequestSpan): Promise<Response>;
}

function coalesceKey(app: AppConfig, presented: Presented): CoalesceKey {
  // Callers share an answer only for the very same grant: one whose answer carries a re-sealed token
  // (an old key, an old format, a Ruby token) must not share a plain one's, and the other way round.
  const { grant } = presented;
  const kind = presented.legacy ? 'legacy' : `v${presented.version}:${presented.keyIndex}`;
  const local = [
    app.name,
    app.clientId,
    kind,
    grant.familyId ?? '',
    grant.generation,
    grant.refreshToken,
  ].join('\n');
  return {
    local,
    // Hashed only when a shared store needs a name it may keep: most refreshes never pay for it.
    digest: async () => base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(local)))),
    secret: grant.refreshToken,
  };
}

export function createTokenHandlers(app: AppConfig, deps: TokenHandlerDeps): TokenHandlers {
  const sealer: Sealer | undefined =
    app.encryptionSecrets.length > 0
      ? (deps.createSealer ?? createSealer)(app.encryptionSecrets, { app: app.name, clientId: app.clientId })
      : undefined;
  const defaultRedirectUri = app.redirectUris[0];
  const now = deps.now ?? Date.now;

  /**
   * The token response the client gets: a refresh token when there is one to hand out (sealed, when
   * the app seals), and the seconds the login has left, when its authorization time is known.
   */
  async function answerWith(tokens: TokenResponse, handOut: Grant | undefined, authTime: number | undefined) {
    const { refresh_token: _spotify, refresh_token_expires_in: _theirs, ...rest } = tokens;
    const answer: TokenResponse = rest;
    if (handOut !== undefined) {
      answer.refresh_token = sealer ? await sealer.seal(handOut) : handOut.refreshToken;
    }
    const left = secondsLeft(authTime, now());
    if (left !== undefined) answer.refresh_token_expires_in = left;
    return jsonAnswer(200, answer);
  }

  /** The answer to a refresh as it will go on the wire, so that coalesced callers share it whole. */
  async function refreshAnswer(
    presented: Presented,
    log: Logger,
    span: RequestSpan | undefined,
  ): Promise<Answer> {
    const { grant } = presented;
    try {
      const tokens = await deps.caller.call(
        app,
        { grant_type: 'refresh_token', refresh_token: grant.refreshToken },
        log,
        span,
      );
      // Unsealed, Spotify's own rotated token goes back as it came; sealed, the rules of grants.ts.
      const next = sealer ? nextGrant(presented, tokens, now()) : undefined;
      if (presented.legacy) {
        log.info({ app: app.name }, 'migrated a refresh token sealed by the Ruby token swap service');
      }
      const unsealedRotation =
        !sealer && tokens.refresh_token !== undefined
          ? { ...grant, refreshToken: tokens.refresh_token }
          : undefined;
      return await answerWith(tokens, next ?? unsealedRotation, grant.authTime);
    } catch (error) {
      if (error instanceof OAuthError) return asLoginExpired(error, grant, now()).toAnswer();
      throw error;
    }
  }

  /** What the client presented, opened: a sealed token of either format, a Ruby one, or (unsealed) Spotify's. */
  async function open(presented: string): Promise<Presented> {
    if (!sealer) return { grant: legacyGrant(presented), legacy: false, version: 1, kid: '', keyIndex: 0 };
    const legacy = isSealedToken(presented) ? undefined : deps.legacyUnseal?.(presented);
    if (legacy !== undefined) return { grant: legacyGrant(legacy), legacy: true };
    return { ...(await sealer.unseal(presented)), legacy: false };
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

      const upstream: TokenGrant = { grant_type: 'authorization_code', code, redirect_uri: redirectUri };
      if (codeVerifier !== undefined) {
        upstream.code_verifier = codeVerifier;
      }
      const tokens = await deps.caller.call(app, upstream, log, span);
      if (tokens.refresh_token === undefined) {
        log.warn({ app: app.name }, 'Spotify returned no refresh token on a code exchange');
      }
      // A code exchange is the user's authorization: the login's life starts now.
      const grant = tokens.refresh_token === undefined ? undefined : loginGrant(tokens.refresh_token, now());
      return respond(await answerWith(tokens, grant, Math.floor(now() / 1000)));
    },

    async refresh(request, log, span) {
      const params = await readParams(request);
      const value = requiredToken(params, 'refresh_token', { legacy: deps.legacyUnseal !== undefined });
      // A token that does not unseal, or whose login has ended, never reaches Spotify: no rate budget
      // spent on forgeries or on tokens Spotify would refuse.
      const presented = await open(value);
      const end = loginEnd(presented.grant);
      if (end !== undefined && now() >= end) {
        deps.metrics.refreshRefused('expired');
        return respond(loginExpired(end).toAnswer());
      }
      const answer = await deps.coalescer.run(
        coalesceKey(app, presented),
        () => refreshAnswer(presented, log, span),
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
