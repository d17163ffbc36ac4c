/** Everything the demo puts on its page. Only a masked form of a token ever reaches the DOM. */
import type { RevokeResult, TokenSet } from '../../client/index.js';
import type { DemoMode } from '../config.js';
import { createCountdown } from './countdown.js';
import type { ShownError } from './errors.js';
import { showMode } from './mode-view.js';
import type { Profile } from './profile.js';

function mask(token: string | undefined): string {
  if (!token) return '(none)';
  if (token.length < 20) return '…';
  return `${token.slice(0, 6)}…${token.slice(-4)}`;
}

/** What a sign-out came to at the swap service. */
export type SignOutOutcome = RevokeResult['outcome'] | 'nothing_to_revoke';

const SIGNED_OUT: Record<SignOutOutcome, string> = {
  revoked: 'Signed out. The swap service revoked the login: its refresh token works no more.',
  unsupported:
    'Signed out in this tab. The swap service keeps no revocations, so its tokens still work until they expire.',
  unreachable:
    'Signed out in this tab. The swap service could not be reached to revoke the login, so its tokens still work until they expire.',
  nothing_to_revoke: 'Signed out.',
};

/** What the page says in cookie mode where tab mode shows the masked refresh token. */
export const REFRESH_TOKEN_HELD = 'held by the service in an HttpOnly cookie, not readable here';

/** A login's end as the page shows it, in UTC so that it reads the same everywhere. */
export function signInByText(endsAt: number | undefined): string {
  if (endsAt === undefined) return 'not said by the service';
  return `${new Date(endsAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A profile card: an initial, the display name (or the id), the id, the email when granted. */
export function renderProfile(target: HTMLElement, user: Profile): void {
  const document = target.ownerDocument;
  const name = user.displayName || user.id;
  const avatar = document.createElement('div');
  avatar.className = 'avatar';
  avatar.setAttribute('aria-hidden', 'true');
  avatar.textContent = (name || '?').charAt(0).toUpperCase();
  const text = document.createElement('div');
  const title = document.createElement('div');
  title.className = 'name';
  title.textContent = name;
  text.append(title);
  for (const line of [`Spotify user id ${user.id}`, user.email]) {
    if (!line) continue;
    const detail = document.createElement('div');
    detail.className = 'id';
    detail.textContent = line;
    text.append(detail);
  }
  target.replaceChildren(avatar, text);
}

export interface View {
  /** Labels the page with its mode (and links the other), and shows the proxy tab when there is one. */
  setMode(mode: DemoMode, apiProxy: boolean): void;
  showError(error: ShownError): void;
  clearError(): void;
  setStatus(text: string): void;
  setBusy(busy: boolean): void;
  showSession(tokens: TokenSet): void;
  showLoggedOut(): void;
  /** After a sign-out: what came of the revocation. */
  showSignedOut(outcome: SignOutOutcome): void;
  showProfileLoading(): void;
  showProfileUnavailable(): void;
  showProfile(profile: Profile): void;
  /** "Refreshed at 14:05:12": that the Refresh button did something, even when little changed. */
  showRefreshed(at: number): void;
  onLogin(listener: () => void): void;
  onRefresh(listener: () => void): void;
  onLogout(listener: () => void): void;
}

export function createView(document: Document): View {
  function element<T extends HTMLElement>(id: string, type: new () => T): T {
    const found = document.getElementById(id);
    if (!(found instanceof type)) {
      throw new Error(`demo: the page has no #${id}`);
    }
    return found;
  }
  const box = element('error', HTMLElement);
  const status = element('status', HTMLElement);
  const loggedOut = element('logged-out', HTMLElement);
  const loggedIn = element('logged-in', HTMLElement);
  const profile = element('profile', HTMLElement);
  const scopes = element('scopes', HTMLElement);
  const accessToken = element('access-token', HTMLElement);
  const refreshToken = element('refresh-token', HTMLElement);
  const refreshed = element('refreshed', HTMLElement);
  const signedOut = element('signed-out', HTMLElement);
  const signInBy = element('sign-in-by', HTMLElement);
  let shownMode: DemoMode = 'cookie';
  const buttons = {
    login: element('login', HTMLButtonElement),
    refresh: element('refresh', HTMLButtonElement),
    logout: element('logout', HTMLButtonElement),
  };
  const countdown = createCountdown(element('expires-in', HTMLElement));

  const span = (className: string, text: string) => {
    const node = document.createElement('span');
    node.className = className;
    node.textContent = text;
    return node;
  };

  function renderScopes(granted: readonly string[]) {
    if (granted.length === 0) {
      scopes.replaceChildren(span('muted', 'none'));
      return;
    }
    scopes.replaceChildren(...granted.map((name) => span('chip', name)));
  }

  return {
    setMode(mode, apiProxy) {
      shownMode = mode;
      showMode(document, element, mode, apiProxy);
    },
    showError({ code, description }) {
      const name = document.createElement('strong');
      name.textContent = code;
      box.replaceChildren(name, description ? `: ${description}` : '');
      box.hidden = false;
    },
    clearError() {
      box.replaceChildren();
      box.hidden = true;
    },
    setStatus(text) {
      status.textContent = text;
      status.hidden = !text;
    },
    setBusy(busy) {
      for (const button of Object.values(buttons)) {
        button.disabled = busy;
      }
    },
    showSession(tokens) {
      loggedOut.hidden = true;
      loggedIn.hidden = false;
      renderScopes(tokens.scopes);
      accessToken.textContent = mask(tokens.accessToken);
      if (shownMode === 'cookie') {
        refreshToken.replaceChildren(span('muted', REFRESH_TOKEN_HELD));
      } else {
        const code = document.createElement('code');
        code.textContent = mask(tokens.refreshToken);
        refreshToken.replaceChildren(code);
      }
      signInBy.textContent = signInByText(tokens.refreshTokenExpiresAt);
      countdown.start(tokens.expiresAt);
    },
    showLoggedOut() {
      countdown.stop();
      loggedIn.hidden = true;
      loggedOut.hidden = false;
      profile.replaceChildren();
      accessToken.textContent = '';
      refreshToken.textContent = '';
      signInBy.textContent = '';
      refreshed.textContent = '';
      refreshed.hidden = true;
      signedOut.textContent = '';
      signedOut.hidden = true;
    },
    showSignedOut(outcome) {
      signedOut.textContent = SIGNED_OUT[outcome];
      signedOut.hidden = false;
    },
    showProfileLoading() {
      profile.replaceChildren('Loading your profile…');
    },
    showProfileUnavailable() {
      profile.replaceChildren('Profile unavailable');
    },
    showProfile(user) {
      renderProfile(profile, user);
    },
    showRefreshed(at) {
      refreshed.textContent = `Refreshed at ${new Date(at).toLocaleTimeString([], { hourCycle: 'h23' })}.`;
      refreshed.hidden = false;
    },
    onLogin(listener) {
      buttons.login.addEventListener('click', listener);
    },
    onRefresh(listener) {
      buttons.refresh.addEventListener('click', listener);
    },
    onLogout(listener) {
      buttons.logout.addEventListener('click', listener);
    },
  };
}
