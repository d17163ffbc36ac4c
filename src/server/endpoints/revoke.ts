/**
 * `POST /revoke` (RFC 7009, docs/sealed-tokens.md): a sealed refresh token in, its whole login
 * revoked: every later refresh with any token of that login gets `invalid_grant` without a call to
 * Spotify, which offers apps no revocation of its own (docs/spotify-accounts.md §6). As the RFC says,
 * 200 for any well-formed request, also for a token that is unknown, already revoked, or not a
 * refresh token at all (§2.2), so the answer tells a prober nothing. Where the runtime keeps no
 * login store, a 501 says so instead of pretending.
 */
import { jsonResponse, respond } from '../answer.js';
import { OAuthError } from '../errors.js';
import type { Logger } from '../logger.js';
import { bindingRefusal, type ProofInput, proofInput } from './dpop.js';
import type { Presented } from './grants.js';
import { optionalTokenTypeHint, type RawParams, readParams, requiredToken } from './params.js';
import type { TokenContext } from './token-context.js';

export const revocationUnavailable = () =>
  new OAuthError(
    501,
    'revocation_unavailable',
    'This deployment keeps no revocations (no login store on this runtime): see docs/sealed-tokens.md',
  );

export function createRevokeHandler(context: TokenContext) {
  const { app, deps, logins } = context;

  /** A bound token is revoked with a proof by its key only (endpoints/dpop.ts), as it is refreshed. */
  async function withParams(params: RawParams, log: Logger, proof: ProofInput): Promise<Response> {
    const value = requiredToken(params, 'token', { legacy: deps.legacyUnseal !== undefined });
    // Any hint is fine: this service issues refresh tokens only, and tries the token as one (§2.1).
    optionalTokenTypeHint(params);
    if (!deps.logins) return respond(revocationUnavailable().toAnswer());
    const jkt = await context.dpop.verify(proof);

    let presented: Presented;
    try {
      presented = await context.open(value);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      deps.metrics.revocation(app.name, 'unknown');
      return jsonResponse(200, {});
    }
    const unproven = await bindingRefusal(presented.grant.keyBinding, jkt);
    if (unproven) return respond(unproven.toAnswer());
    const state = await logins.load(presented.grant, log);
    await logins.revoke(state, presented.grant, log);
    deps.metrics.revocation(app.name, 'revoked');
    log.info({ app: app.name, login: logins.label(state) }, 'revoked a login');
    return jsonResponse(200, {});
  }

  return {
    withParams,
    fromRequest: async (request: Request, log: Logger) =>
      withParams(await readParams(request), log, proofInput(request)),
  };
}
