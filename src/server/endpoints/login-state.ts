/**
 * What a refresh asks of the login store (logins/store.ts), and what it does with the answers:
 * whether the login was revoked, when it was last used, and, with rotation (RFC 9700 §4.14.2,
 * docs/sealed-tokens.md), whether the presented token is the newest of its family, its immediate
 * predecessor within the grace (answered as its first use was), or an older one: reuse, and the
 * whole family is revoked.
 */
import type { Answer } from '../answer.js';
import type { AppConfig } from '../config/index.js';
import { OAuthError, temporarilyUnavailable } from '../errors.js';
import type { Logger } from '../logger.js';
import { familyOf, loginKey, loginLabel, type Sha256 } from '../logins/key.js';
import { rememberUntil } from '../logins/lifetime.js';
import type { LoginRecord, LoginStore } from '../logins/store.js';
import type { Metrics } from '../metrics.js';
import { openAnswer, sealAnswer } from '../sealed-answer.js';
import type { Grant } from '../sealing/index.js';

/** The login of a presented token, as far as the store knows it. */
export interface LoginState {
  familyId: string;
  /** Its name in the store; undefined where the runtime has no store. */
  key: string | undefined;
  record: LoginRecord | undefined;
}

/** What to do with a token of a rotating login. */
export type RotationVerdict = 'current' | 'replay' | 'reuse';

export const loginRevoked = () =>
  new OAuthError(400, 'invalid_grant', 'The login was revoked: the user must sign in again');

export const reuseDetected = () =>
  new OAuthError(
    400,
    'invalid_grant',
    'The login was revoked because a refresh token was used twice: the user must sign in again',
  );

/** The id the replay answer is sealed under: one login's, one generation's. */
const replayId = (key: string, generation: number) => `replay ${key} ${generation}`;

export interface LoginStateDeps {
  store: LoginStore | undefined;
  metrics: Metrics;
  now: () => number;
  /** Default: WebCrypto (logins/key.ts). */
  sha256?: Sha256;
}

export function createLoginState(app: AppConfig, deps: LoginStateDeps) {
  const { store, metrics, now, sha256 } = deps;
  const policy = app.refreshTokens;

  /**
   * A store call. When the store fails, a rotating app answers 503 (it cannot tell a reused token
   * from the newest one, and would hand out generations it cannot record); any other app goes on
   * without what the store knows, as it does where there is no store.
   */
  async function attempt<T>(
    operation: 'get' | 'revoke' | 'rotate' | 'touch',
    log: Logger,
    call: (store: LoginStore) => Promise<T>,
  ): Promise<T | undefined> {
    if (!store) return undefined;
    try {
      return await call(store);
    } catch (error) {
      metrics.loginStoreError(operation);
      log.warn({ app: app.name, operation, errorName: (error as Error).name }, 'the login store failed');
      if (policy.rotation || operation === 'revoke') {
        throw temporarilyUnavailable('The service cannot check this login right now; try again shortly', 5);
      }
      return undefined;
    }
  }

  return {
    async load(grant: Grant, log: Logger): Promise<LoginState> {
      const familyId = await familyOf(app, grant, sha256);
      if (!store) return { familyId, key: undefined, record: undefined };
      const key = await loginKey(app, familyId, sha256);
      return { familyId, key, record: await attempt('get', log, (s) => s.get(key)) };
    },

    /** Revokes the login for as long as it could otherwise last. */
    async revoke(state: LoginState, grant: Grant, log: Logger): Promise<void> {
      const { key } = state;
      if (key === undefined) return;
      await attempt('revoke', log, (s) => s.revoke(key, rememberUntil(policy, grant, now())));
    },

    /** With rotation: whether `generation` is the newest, the predecessor in its grace, or reuse. */
    verdict(state: LoginState, generation: number): RotationVerdict {
      const newest = state.record?.generation;
      // Nothing recorded yet (the first refresh of the login), or a generation the store has not seen
      // (it was written while the store failed): this token is the newest there is.
      if (newest === undefined || generation >= newest) return 'current';
      const graceEnds = (state.record?.rotatedAt ?? 0) + policy.reuseGraceSeconds * 1000;
      return generation === newest - 1 && now() < graceEnds && state.record?.answer !== undefined
        ? 'replay'
        : 'reuse';
    },

    /** The answer the predecessor's first use got, for the holder of that predecessor (`secret`). */
    async replay(state: LoginState, generation: number, secret: string): Promise<Answer | undefined> {
      const { key, record } = state;
      if (key === undefined || record?.answer === undefined) return undefined;
      return openAnswer(record.answer, secret, replayId(key, generation));
    },

    /**
     * Records that `presented` was rotated into `generation`, with the answer its holder got;
     * false when another refresh of the same token got there first (or the login was revoked meanwhile).
     */
    async recordRotation(
      state: LoginState,
      grant: Grant,
      rotation: { generation: number; answer: Answer; secret: string },
      log: Logger,
    ): Promise<boolean> {
      const { key } = state;
      if (key === undefined) return true;
      const answer = await sealAnswer(rotation.answer, rotation.secret, replayId(key, grant.generation));
      const next = { generation: rotation.generation, rotatedAt: now(), answer };
      const until = rememberUntil(policy, grant, now());
      return (
        (await attempt('rotate', log, (s) => s.rotate(key, state.record?.generation, next, until))) ?? true
      );
    },

    /** Records a refresh, for the idle limit (only then: other apps never write on a refresh). */
    async touch(state: LoginState, grant: Grant, log: Logger): Promise<void> {
      const { key } = state;
      if (key === undefined || policy.idleTimeoutSeconds === undefined) return;
      await attempt('touch', log, (s) => s.touch(key, now(), rememberUntil(policy, grant, now())));
    },

    label: (state: LoginState) => (state.key === undefined ? undefined : loginLabel(state.key)),
  };
}

export type LoginStateHandle = ReturnType<typeof createLoginState>;
