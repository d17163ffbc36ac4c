/**
 * `POST /refresh`: a refresh token in, a new access token out. Before Spotify is called, the token
 * must open, and its login must be neither revoked, nor past its end, nor (with rotation) a reused
 * token; afterwards the client gets a new sealed token when grants.ts says so, and with rotation the
 * store records it (docs/sealed-tokens.md).
 */
import { base64url, utf8 } from '../../shared/encoding.js';
import { parseScopes } from '../../shared/scopes.js';
import type { TokenResponse } from '../../shared/token-response.js';
import { type Answer, respond } from '../answer.js';
import type { CoalesceKey } from '../coalesce.js';
import { OAuthError } from '../errors.js';
import type { Logger } from '../logger.js';
import { asLoginExpired, loginEnded, loginEndedError } from '../logins/lifetime.js';
import type { PresentedKey, RefreshRefusal, ResealReason } from '../metrics.js';
import type { Grant } from '../sealing/index.js';
import { ATTR, type RequestSpan } from '../tracing.js';
import { bindingRefusal, type ProofInput, proofInput } from './dpop.js';
import { nextGrant, type Presented } from './grants.js';
import { type LoginState, loginRevoked, reuseDetected } from './login-state.js';
import { readParams, requiredToken } from './params.js';
import type { TokenContext } from './token-context.js';

/** A refresh token in, and with POST /token the scope the client asks for. */
export interface RefreshWith {
  refreshToken: string;
  scope?: string;
  /** The request's DPoP header, method and URL: a bound token needs a proof by its key. */
  proof: ProofInput;
}

/**
 * RFC 6749 §6: a requested scope must not exceed the granted one, and Spotify cannot narrow a grant,
 * so anything but the granted scope is refused, before Spotify is called (a call first could lose a
 * rotated Spotify token). A token that does not record its scope (sealed before it was, or unsealed)
 * is let through: after Spotify's answer, refusing would throw away what it rotated
 * (docs/sealed-tokens.md).
 */
function checkScope(requested: string, granted: string | undefined): void {
  if (granted === undefined) return;
  const asked = new Set(parseScopes(requested));
  const has = new Set(parseScopes(granted));
  if (asked.size !== has.size || [...asked].some((scope) => !has.has(scope))) {
    throw new OAuthError(
      400,
      'invalid_scope',
      'Spotify cannot narrow or widen a grant: ask for the scope that was granted, or for none',
    );
  }
}

function coalesceKey(context: TokenContext, presented: Presented): CoalesceKey {
  // Callers share an answer only for the very same grant: one whose answer carries a re-sealed token
  // (an old key, an old format, a Ruby token) must not share a plain one's, and the other way round.
  const { app } = context;
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

/** What `token_swap_refresh_token_key_total` counts of a presented token; undefined when unsealed. */
function presentedKey(context: TokenContext, presented: Presented): PresentedKey | undefined {
  if (!context.sealer) return undefined;
  if (presented.legacy) return { app: context.app.name, key: 'legacy', format: 'legacy' };
  return { app: context.app.name, key: presented.kid, format: presented.version === 1 ? 'sts1' : 'sts2' };
}

export function createRefreshHandler(context: TokenContext) {
  const { app, deps, logins, now, sealer } = context;
  const policy = app.refreshTokens;

  const refuse = (reason: RefreshRefusal, error: OAuthError): Answer => {
    deps.metrics.refreshRefused(app.name, reason);
    return error.toAnswer();
  };

  /** A token of a rotating login presented again out of its grace: the whole family is revoked. */
  async function reuse(presented: Presented, state: LoginState, log: Logger): Promise<Answer> {
    await logins.revoke(state, presented.grant, log);
    log.warn(
      {
        app: app.name,
        login: logins.label(state),
        presentedGeneration: presented.grant.generation,
        newestGeneration: state.record?.generation,
      },
      'a refresh token was used twice: revoked its login',
    );
    return refuse('reuse', reuseDetected());
  }

  /** The predecessor's first answer again, when it is still in its grace; else it is reuse. */
  async function replayOrReuse(presented: Presented, state: LoginState, log: Logger): Promise<Answer> {
    const { grant } = presented;
    if (logins.verdict(state, grant.generation) === 'replay') {
      const answer = await logins.replay(state, grant.generation, coalesceKey(context, presented).local);
      if (answer !== undefined) {
        deps.metrics.refreshReplayed(app.name);
        return answer;
      }
    }
    return reuse(presented, state, log);
  }

  /**
   * The grant a refresh hands out, if any. Unsealed, Spotify's own rotated token goes back as it came;
   * sealed, the rules of grants.ts.
   */
  function handOut(
    presented: Presented,
    tokens: TokenResponse,
    state: LoginState,
    log: Logger,
  ): { grant: Grant; reason?: ResealReason } | undefined {
    if (presented.legacy) {
      log.info({ app: app.name }, 'migrated a refresh token sealed by the Ruby token swap service');
    }
    if (!sealer) {
      return tokens.refresh_token === undefined
        ? undefined
        : { grant: { ...presented.grant, refreshToken: tokens.refresh_token } };
    }
    const next = nextGrant(presented, tokens, { policy, familyId: state.familyId, nowMs: now() });
    if (next) deps.metrics.refreshResealed(app.name, next.reason);
    return next;
  }

  /** The answer to a refresh as it will go on the wire, so that coalesced callers share it whole. */
  async function refreshAnswer(
    presented: Presented,
    state: LoginState,
    log: Logger,
    span: RequestSpan | undefined,
  ): Promise<Answer | 'lost_race'> {
    const { grant } = presented;
    try {
      const tokens = await deps.caller.call(
        app,
        { grant_type: 'refresh_token', refresh_token: grant.refreshToken },
        log,
        span,
      );
      const next = handOut(presented, tokens, state, log);
      const answer = await context.answerWith(tokens, next?.grant, grant.authTime);
      if (!policy.rotation || next?.reason !== 'rotation') {
        await logins.touch(state, grant, log);
        return answer;
      }
      const rotation = {
        generation: next.grant.generation,
        answer,
        secret: coalesceKey(context, presented).local,
      };
      return (await logins.recordRotation(state, grant, rotation, log)) ? answer : 'lost_race';
    } catch (error) {
      if (error instanceof OAuthError) return asLoginExpired(error, policy, grant, now()).toAnswer();
      throw error;
    }
  }

  /** The presented token opened, its DPoP proof and scope checked; or the answer that refuses it. */
  async function opened(params: RefreshWith, log: Logger): Promise<Presented | Answer> {
    // A bad proof is refused whatever the token, before the token is even opened.
    const jkt = await context.dpop.verify(params.proof);
    const presented = await context.open(params.refreshToken);
    const unproven = await bindingRefusal(presented.grant.keyBinding, jkt);
    if (!unproven) {
      if (params.scope !== undefined) checkScope(params.scope, presented.grant.scope);
      return presented;
    }
    // A copied token, or a client that lost its key: worth a look either way.
    log.warn({ app: app.name }, 'a DPoP-bound refresh token came without a proof by its key');
    return refuse('dpop', unproven);
  }

  /**
   * A refresh whose token was read and checked for form. `scope` (POST /token, RFC 6749 §6): the
   * scope the client asks for, which must be the one granted.
   */
  /** The token opened and its login live (not revoked, not ended); or the answer that refuses it. */
  async function live(
    params: RefreshWith,
    log: Logger,
  ): Promise<{ presented: Presented; state: LoginState } | Answer> {
    const presented = await opened(params, log);
    if (!('grant' in presented)) return presented;
    const state = await logins.load(presented.grant, log);
    if (state.record?.revoked) return refuse('revoked', loginRevoked());
    const ended = loginEnded(policy, presented.grant, now(), state.record?.lastUsedAt);
    if (ended) return refuse(ended.reason, loginEndedError(ended));
    return { presented, state };
  }

  async function withToken(params: RefreshWith, log: Logger, span?: RequestSpan): Promise<Response> {
    // A token that does not unseal, or whose login has ended or was revoked, never reaches Spotify:
    // no rate budget spent on forgeries or on tokens Spotify would refuse.
    const checked = await live(params, log);
    if (!('presented' in checked)) return respond(checked);
    const { presented, state } = checked;
    if (policy.rotation && logins.verdict(state, presented.grant.generation) !== 'current') {
      return respond(await replayOrReuse(presented, state, log));
    }

    const key = presentedKey(context, presented);
    const authTime = presented.grant.authTime;
    if (key) deps.metrics.refreshPresented(key, authTime === undefined ? undefined : now() / 1000 - authTime);
    return deps.coalescer
      .run(
        coalesceKey(context, presented),
        // A `then`, not one more async function suspended for as long as Spotify takes.
        () =>
          refreshAnswer(presented, state, log, span).then((produced) =>
            produced !== 'lost_race'
              ? produced
              : // Another replica rotated the same token a moment earlier: its answer, or reuse.
                logins.load(presented.grant, log).then((latest) => replayOrReuse(presented, latest, log)),
          ),
        (scope) => {
          deps.metrics.coalesced(scope);
          // This request's span has no upstream child: another request's call answered it.
          span?.setAttributes({ [ATTR.coalesced]: scope });
        },
      )
      .then(respond);
  }

  return {
    withToken,
    /** The refusal a refresh with this token would get before Spotify is called; undefined: none. */
    async refusal(params: RefreshWith, log: Logger): Promise<Response | undefined> {
      const checked = await live(params, log);
      return 'presented' in checked ? undefined : respond(checked);
    },
    async fromRequest(request: Request, log: Logger, span?: RequestSpan): Promise<Response> {
      const params = await readParams(request);
      const refreshToken = requiredToken(params, 'refresh_token', {
        legacy: deps.legacyUnseal !== undefined,
      });
      return withToken({ refreshToken, proof: proofInput(request) }, log, span);
    },
  };
}
