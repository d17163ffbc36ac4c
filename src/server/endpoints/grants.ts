/**
 * The grant a sealed refresh token carries, from the code exchange through every refresh
 * (docs/sealed-tokens.md). Pure: the handlers (tokens.ts) seal, open and call Spotify; this says what
 * the grants are and when a refresh must hand the client a new sealed token. When a login ends is
 * logins/lifetime.ts.
 */
import type { TokenResponse } from '../../shared/token-response.js';
import type { RefreshTokenPolicy } from '../config/index.js';
import type { ResealReason } from '../metrics.js';
import { type Grant, newFamilyId, type Opened } from '../sealing/index.js';

/** How an opened token was presented: one of ours (either format), or the Ruby service's. */
export type Presented = (Opened & { legacy: false }) | { grant: Grant; legacy: true };

const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * The grant of a new login: Spotify's refresh token, authorized now, a new family, generation 0, and
 * the scope Spotify granted (kept for every token of the login: Spotify cannot narrow a grant).
 */
export function loginGrant(refreshToken: string, nowMs: number, scope?: string, keyBinding?: string): Grant {
  const now = seconds(nowMs);
  const grant: Grant = { refreshToken, authTime: now, familyId: newFamilyId(), generation: 0, issuedAt: now };
  if (scope !== undefined) grant.scope = scope;
  // The DPoP key's thumbprint (endpoints/dpop.ts): every token of the login keeps it (nextGrant).
  if (keyBinding !== undefined) grant.keyBinding = keyBinding;
  return grant;
}

/** The grant of a refresh token the Ruby service sealed, or of an unsealed one: nothing is known but the token. */
export function legacyGrant(refreshToken: string): Grant {
  return { refreshToken, authTime: undefined, familyId: undefined, generation: 0, issuedAt: undefined };
}

/** Why the presented token must be replaced, if it must, most telling reason first. */
function resealReason(
  presented: Presented,
  tokens: TokenResponse,
  policy: RefreshTokenPolicy,
  nowMs: number,
): ResealReason | undefined {
  if (presented.legacy) return 'legacy';
  if (policy.rotation) return 'rotation';
  if (tokens.refresh_token !== undefined) return 'spotify_rotated';
  // So that dropping the old secret, or the first format, logs nobody out (docs/sealed-tokens.md).
  if (presented.version === 1) return 'old_format';
  if (presented.keyIndex > 0) return 'old_key';
  // An idle limit slides with each token handed out: renewed once half of it has passed, so a client
  // that keeps the tokens it gets is never cut off while it refreshes, even without a store.
  const { idleTimeoutSeconds } = policy;
  const issuedAt = presented.grant.issuedAt;
  if (idleTimeoutSeconds !== undefined && issuedAt !== undefined) {
    if (seconds(nowMs) - issuedAt >= idleTimeoutSeconds / 2) return 'idle';
  }
  return undefined;
}

/**
 * The grant a refresh hands out, and why, or undefined when the client keeps the token it has (as
 * Spotify's own rule says: no new refresh token, keep the old one). `familyId`: the grant's family,
 * derived for tokens that carry none (logins/key.ts), so that the new token stays in that login.
 */
export function nextGrant(
  presented: Presented,
  tokens: TokenResponse,
  context: { policy: RefreshTokenPolicy; familyId: string; nowMs: number },
): { grant: Grant; reason: ResealReason } | undefined {
  const reason = resealReason(presented, tokens, context.policy, context.nowMs);
  if (reason === undefined) return undefined;
  const { grant } = presented;
  return {
    reason,
    grant: {
      ...grant,
      refreshToken: tokens.refresh_token ?? grant.refreshToken,
      familyId: context.familyId,
      generation: grant.generation + 1,
      issuedAt: seconds(context.nowMs),
    },
  };
}
