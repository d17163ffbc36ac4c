/**
 * The secret-bearing steps a swap service does for an app that cannot keep a secret: `swap`
 * (authorization code → tokens), `refresh` (refresh token → new access token, refresh.ts), and
 * `revoke` (a login ended at the user's or app's request, revoke.ts).
 */
import { findRedirectUri } from '../../shared/redirect-uri.js';
import { respond } from '../answer.js';
import type { AppConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { RequestSpan } from '../tracing.js';
import type { TokenGrant } from '../upstream/token-request.js';
import { invalidProof, type ProofInput, proofInput } from './dpop.js';
import { loginGrant } from './grants.js';
import {
  optionalCodeVerifier,
  optionalRedirectUri,
  type RawParams,
  readParams,
  requiredToken,
} from './params.js';
import { createRefreshHandler, type RefreshWith } from './refresh.js';
import { createRevokeHandler } from './revoke.js';
import { createTokenContext, type TokenContext, type TokenHandlerDeps } from './token-context.js';

export type { RefreshWith } from './refresh.js';
export type { LegacyUnsealer, TokenHandlerDeps } from './token-context.js';

/** `span`: the request's server span when tracing is on, the parent of the upstream calls' spans. */
export interface TokenHandlers {
  swap(request: Request, log: Logger, span?: RequestSpan): Promise<Response>;
  refresh(request: Request, log: Logger, span?: RequestSpan): Promise<Response>;
  revoke(request: Request, log: Logger, span?: RequestSpan): Promise<Response>;
  /** The same steps on parameters already read and checked: what `POST /token` dispatches to (token-endpoint.ts). */
  grants: {
    authorizationCode(params: CodeExchange, log: Logger, span?: RequestSpan): Promise<Response>;
    refreshToken(params: RefreshWith, log: Logger, span?: RequestSpan): Promise<Response>;
    /** What refreshToken would refuse without calling Spotify (forged, revoked, ended); undefined: nothing. */
    refreshRefusal(params: RefreshWith, log: Logger): Promise<Response | undefined>;
    revoke(params: RawParams, log: Logger, proof: ProofInput): Promise<Response>;
    /** Whether refresh tokens of the Ruby service open here, so their looser form is let through. */
    acceptsLegacyTokens: boolean;
  };
  /** Whether refresh tokens get bound to DPoP keys: the app seals, and a login store keeps the replay cache. */
  bindsDpop: boolean;
  /** With DPOP_NONCE: the nonce every answer carries in `DPoP-Nonce` (RFC 9449 §8.2). */
  dpopNonce: (() => Promise<string>) | undefined;
  /** The key ids of the app's sealing secrets, in order; undefined when it does not seal. */
  sealingKeyIds(): Promise<string[] | undefined>;
}

/** A code exchange whose parameters are read and checked: what both `/swap` and `/token` send on. */
export interface CodeExchange {
  code: string;
  redirectUri: string;
  codeVerifier: string | undefined;
  /** The request's DPoP header, method and URL (endpoints/dpop.ts). */
  proof: ProofInput;
}

/**
 * The DPoP key the login's refresh tokens are bound to, checked before Spotify is called (a code is
 * good for one exchange only). `required` with no proof is `invalid_dpop_proof` rather than
 * `invalid_request`: RFC 9449 §5 names that error for a token request whose proof does not do, and
 * it tells a client exactly what to add.
 */
async function keyBindingOf(context: TokenContext, proof: ProofInput): Promise<string | undefined> {
  const jkt = await context.dpop.verify(proof);
  if (jkt === undefined) {
    if (context.app.dpop === 'required') {
      throw invalidProof('This app requires DPoP: send a DPoP proof with the code exchange');
    }
    return undefined;
  }
  if (!context.sealer) {
    throw invalidProof(
      "This app hands out Spotify's refresh tokens unsealed: they cannot be bound to a DPoP key",
    );
  }
  return jkt;
}

function createCodeExchange(context: TokenContext) {
  const { app, deps, now } = context;
  return async function exchange(params: CodeExchange, log: Logger, span?: RequestSpan): Promise<Response> {
    const keyBinding = await keyBindingOf(context, params.proof);
    const upstream: TokenGrant = {
      grant_type: 'authorization_code',
      code: params.code,
      redirect_uri: params.redirectUri,
    };
    if (params.codeVerifier !== undefined) {
      upstream.code_verifier = params.codeVerifier;
    }
    const tokens = await deps.caller.call(app, upstream, log, span);
    if (tokens.refresh_token === undefined) {
      log.warn({ app: app.name }, 'Spotify returned no refresh token on a code exchange');
    }
    // A code exchange is the user's authorization: the login's life starts now.
    const grant =
      tokens.refresh_token === undefined
        ? undefined
        : loginGrant(tokens.refresh_token, now(), tokens.scope, keyBinding);
    return respond(await context.answerWith(tokens, grant, Math.floor(now() / 1000)));
  };
}

function createSwapHandler(context: TokenContext, exchange: ReturnType<typeof createCodeExchange>) {
  const { app } = context;
  const defaultRedirectUri = app.redirectUris[0];

  return async function swap(request: Request, log: Logger, span?: RequestSpan): Promise<Response> {
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
    return exchange({ code, redirectUri, codeVerifier, proof: proofInput(request) }, log, span);
  };
}

export function createTokenHandlers(app: AppConfig, deps: TokenHandlerDeps): TokenHandlers {
  const context = createTokenContext(app, deps);
  const exchange = createCodeExchange(context);
  const refresh = createRefreshHandler(context);
  const revoke = createRevokeHandler(context);
  return {
    swap: createSwapHandler(context, exchange),
    refresh: refresh.fromRequest,
    revoke: revoke.fromRequest,
    grants: {
      authorizationCode: exchange,
      refreshToken: refresh.withToken,
      refreshRefusal: refresh.refusal,
      acceptsLegacyTokens: deps.legacyUnseal !== undefined,
      revoke: revoke.withParams,
    },
    bindsDpop: context.dpop.available && context.sealer !== undefined,
    dpopNonce: context.nonces?.issue,
    sealingKeyIds: async () => context.sealer?.keyIds(),
  };
}
