/**
 * The demo's state in `sessionStorage`: this tab only, gone when it closes. A login in progress keeps
 * its `state` and PKCE verifier across the round trip to Accounts; a finished one keeps its tokens.
 */
import type { TokenSet } from '../../client/index.js';
import { DEMO_MODES, type DemoMode } from '../config.js';

const PENDING_KEY = 'token-swap-demo:pending';
const SESSION_KEY = 'token-swap-demo:session';
/** The mode this tab chose with `?mode=`, kept across the round trip to Accounts and reloads. */
const MODE_KEY = 'token-swap-demo:mode';

interface PendingLogin {
  state: string;
  codeVerifier: string;
}

export interface DemoStorage {
  savePending(pending: PendingLogin): void;
  /** The pending login, removed at once: a callback may use it only once. */
  takePending(): PendingLogin | undefined;
  saveSession(tokens: TokenSet): void;
  loadSession(): TokenSet | undefined;
  /** Forgets the pending login and the tokens (the chosen mode stays). */
  clear(): void;
}

/** The page's mode: `?mode=` (then kept for this tab), else the one this tab chose, else the default. */
export function chooseMode(search: string, storage: Storage, fallback: DemoMode): DemoMode {
  const asked = new URLSearchParams(search).get('mode');
  if (DEMO_MODES.includes(asked as DemoMode)) {
    storage.setItem(MODE_KEY, asked as DemoMode);
    return asked as DemoMode;
  }
  const kept = storage.getItem(MODE_KEY);
  return DEMO_MODES.includes(kept as DemoMode) ? (kept as DemoMode) : fallback;
}

type Fields = Record<string, unknown>;

function isPendingLogin(value: Fields): value is Fields & PendingLogin {
  return typeof value.state === 'string' && typeof value.codeVerifier === 'string';
}

function isTokenSet(value: Fields): value is Fields & TokenSet {
  return (
    typeof value.accessToken === 'string' &&
    value.accessToken !== '' &&
    typeof value.tokenType === 'string' &&
    Array.isArray(value.scopes) &&
    value.scopes.every((scope) => typeof scope === 'string') &&
    typeof value.expiresAt === 'number' &&
    (value.refreshToken === undefined || typeof value.refreshToken === 'string') &&
    (value.refreshTokenExpiresAt === undefined || typeof value.refreshTokenExpiresAt === 'number')
  );
}

export function createDemoStorage(storage: Storage): DemoStorage {
  // Anything unreadable (another version's shape, a hand edit) counts as nothing stored.
  const load = (key: string): Fields | undefined => {
    try {
      const value: unknown = JSON.parse(storage.getItem(key) ?? 'null');
      return typeof value === 'object' && value !== null ? (value as Fields) : undefined;
    } catch {
      return undefined;
    }
  };
  const save = (key: string, value: unknown) => storage.setItem(key, JSON.stringify(value));

  return {
    savePending(pending) {
      save(PENDING_KEY, { state: pending.state, codeVerifier: pending.codeVerifier });
    },
    takePending() {
      const value = load(PENDING_KEY);
      storage.removeItem(PENDING_KEY);
      return value && isPendingLogin(value)
        ? { state: value.state, codeVerifier: value.codeVerifier }
        : undefined;
    },
    saveSession(tokens) {
      save(SESSION_KEY, tokens);
    },
    loadSession() {
      const value = load(SESSION_KEY);
      if (!value || !isTokenSet(value)) {
        return undefined;
      }
      const { accessToken, tokenType, scopes, expiresAt, refreshToken, refreshTokenExpiresAt } = value;
      const tokens: TokenSet = { accessToken, tokenType, scopes, expiresAt, refreshToken };
      // Kept, so that a refresh that does not say the login's end keeps knowing it.
      if (refreshTokenExpiresAt !== undefined) tokens.refreshTokenExpiresAt = refreshTokenExpiresAt;
      return tokens;
    },
    clear() {
      storage.removeItem(SESSION_KEY);
      storage.removeItem(PENDING_KEY);
    },
  };
}
