/**
 * The session's watch over the login's end. Spotify ends a login six months after the user agreed,
 * whatever the refreshes (docs/spotify-accounts.md §6), and the swap service says when
 * (`refresh_token_expires_in`): this tells the app once when the login enters its last days and once
 * when it has ended, so that it can ask the user to sign in again before a refresh fails.
 */
import { LoginRequiredError } from './errors.js';
import { DEFAULT_SIGN_IN_WARNING_DAYS, signInNeed, type TokenSet } from './token-set.js';

export interface SignInNotice {
  /** `soon`: the login is in its last days; `ended`: it is over, and no refresh will work. */
  kind: 'soon' | 'ended';
  /** When the login ends or ended (epoch ms), when the swap service said. */
  endsAt: number | undefined;
}

export interface SignInWatch {
  /** Looks at the tokens a call is about to hand out or refresh. */
  saw(tokens: TokenSet): void;
  /** Looks at what a refresh brought: new tokens, or the news that the login ended. */
  sawRefresh(refresh: Promise<TokenSet>): Promise<TokenSet>;
}

type Told = 'later' | 'soon' | 'ended';
const ORDER: Record<Told, number> = { later: 0, soon: 1, ended: 2 };

export function createSignInWatch(
  listener: ((notice: SignInNotice) => void) | undefined,
  warningDays: number = DEFAULT_SIGN_IN_WARNING_DAYS,
  now: () => number,
): SignInWatch {
  if (!Number.isFinite(warningDays) || warningDays < 0) {
    throw new TypeError('signInWarningDays must be a number of days, 0 or more');
  }
  let told: Told = 'later';
  let endsAt: number | undefined;

  // Each news once: the login's end moves by up to a second with every refresh (whole seconds on the
  // wire), and a `soon` after `ended` is only that jitter.
  function tell(kind: 'soon' | 'ended'): void {
    if (ORDER[kind] <= ORDER[told]) return;
    told = kind;
    listener?.({ kind, endsAt });
  }

  function saw(tokens: TokenSet): void {
    const need = signInNeed(tokens, now(), warningDays);
    if (need === 'unknown') return;
    endsAt = tokens.refreshTokenExpiresAt;
    // A refresh never extends a login, so one with time left again is a new login: its news are new.
    if (need === 'later') told = 'later';
    else tell(need);
  }

  return {
    saw,
    async sawRefresh(refresh) {
      try {
        const tokens = await refresh;
        saw(tokens);
        return tokens;
      } catch (error) {
        if (error instanceof LoginRequiredError && error.code === 'expired') tell('ended');
        throw error;
      }
    },
  };
}
