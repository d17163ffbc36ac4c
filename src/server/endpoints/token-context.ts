/**
 * What the token endpoints of one app share (swap, refresh, revoke: tokens.ts, refresh.ts,
 * revoke.ts): its sealer, how a presented refresh token is opened, how a token response is written,
 * its login state (login-state.ts) and its clock.
 */

import type { TokenResponse } from '../../shared/token-response.js';
import { type Answer, jsonAnswer } from '../answer.js';
import type { Coalescer } from '../coalesce.js';
import type { AppConfig } from '../config/index.js';
import type { Sha256 } from '../logins/key.js';
import { secondsLeft } from '../logins/lifetime.js';
import type { LoginStore } from '../logins/store.js';
import type { Metrics } from '../metrics.js';
import {
  createSealer,
  type Grant,
  isSealedToken,
  type Sealer,
  type SealerFactory,
} from '../sealing/index.js';
import type { SpotifyCaller } from '../upstream/caller.js';
import { createDpopVerifier, type DpopVerifier } from './dpop.js';
import { createNonceSource, type NonceSource } from './dpop-nonce.js';
import { legacyGrant, type Presented } from './grants.js';
import { createLoginState, type LoginStateHandle } from './login-state.js';

/** Opens a refresh token sealed by an older service; undefined when it cannot. */
export type LegacyUnsealer = (token: string) => string | undefined;

export interface TokenHandlerDeps {
  caller: SpotifyCaller;
  coalescer: Coalescer;
  metrics: Metrics;
  /** Default: WebCrypto (sealing/webcrypto.ts). */
  createSealer?: SealerFactory;
  /** Present when this runtime can open the app's legacy tokens (LEGACY_ENCRYPTION_SECRET). */
  legacyUnseal?: LegacyUnsealer;
  /** Where revocations and rotations are kept; undefined where the runtime has no store. */
  logins?: LoginStore;
  /** Injectable for tests: the clock of login lifetimes. */
  now?: () => number;
  /** How login keys are hashed; default: WebCrypto (logins/key.ts). */
  sha256?: Sha256;
  /** PUBLIC_URL: the base of the URL a DPoP proof must name (endpoints/dpop.ts). */
  publicUrl?: string;
  /** DPOP_NONCE: proofs must carry a nonce of the service's (endpoints/dpop-nonce.ts). */
  dpopNonce?: boolean;
}

export interface TokenContext {
  app: AppConfig;
  deps: TokenHandlerDeps;
  sealer: Sealer | undefined;
  logins: LoginStateHandle;
  now: () => number;
  /** Checks DPoP proofs, with the login store as the replay cache. */
  dpop: DpopVerifier;
  /** With DPOP_NONCE, for an app that seals (the key comes from its sealing secret). */
  nonces: NonceSource | undefined;
  /** What the client presented, opened; throws the generic invalid_grant when it does not open. */
  open(value: string): Promise<Presented>;
  /**
   * The token response the client gets: a refresh token when there is one to hand out (sealed, when
   * the app seals), and the seconds the login has left, when its authorization time is known.
   */
  answerWith(
    tokens: TokenResponse,
    handOut: Grant | undefined,
    authTime: number | undefined,
  ): Promise<Answer>;
}

export function createTokenContext(app: AppConfig, deps: TokenHandlerDeps): TokenContext {
  const sealer =
    app.encryptionSecrets.length > 0
      ? (deps.createSealer ?? createSealer)(app.encryptionSecrets, { app: app.name, clientId: app.clientId })
      : undefined;
  const now = deps.now ?? Date.now;
  const [sealingSecret] = app.encryptionSecrets;
  const nonces = deps.dpopNonce && sealingSecret ? createNonceSource(sealingSecret, now) : undefined;
  return {
    app,
    deps,
    sealer,
    now,
    logins: createLoginState(app, { store: deps.logins, metrics: deps.metrics, now, sha256: deps.sha256 }),
    dpop: createDpopVerifier({ publicUrl: deps.publicUrl, store: deps.logins, now, nonces }),
    nonces,
    async open(value) {
      // Unsealed, the token is Spotify's own; a Ruby one opens with the legacy secrets; else ours.
      if (!sealer) return { grant: legacyGrant(value), legacy: false, version: 1, kid: '', keyIndex: 0 };
      const legacy = isSealedToken(value) ? undefined : deps.legacyUnseal?.(value);
      if (legacy !== undefined) return { grant: legacyGrant(legacy), legacy: true };
      return { ...(await sealer.unseal(value)), legacy: false };
    },
    async answerWith(tokens, handOut, authTime) {
      const { refresh_token: _spotify, refresh_token_expires_in: _theirs, ...rest } = tokens;
      const answer: TokenResponse = rest;
      if (handOut !== undefined) {
        answer.refresh_token = sealer ? await sealer.seal(handOut) : handOut.refreshToken;
      }
      const left = secondsLeft(app.refreshTokens, authTime, now());
      if (left !== undefined) answer.refresh_token_expires_in = left;
      return jsonAnswer(200, answer);
    },
  };
}
