/**
 * What the app-side commands (login, token, refresh, status, logout) share: where the login is
 * stored, how a failure becomes a message and an exit code, and the Web API profile call.
 */
import {
  AuthorizationError,
  LoginRequiredError,
  SwapServiceError,
  SwapServiceUnreachableError,
  type TokenSet,
} from '../client/index.js';
import { createFileStore, defaultStorePath, TokenStoreError } from '../client/node/index.js';
import { CliFailure } from './fail.js';

/** Exit codes of the app-side commands, so scripts can tell failures apart. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  loginRequired: 3,
  serviceUnavailable: 4,
  authorizationFailed: 5,
} as const;

export const storeFlag = {
  store: {
    type: 'string',
    description: 'Where the login is kept (TOKEN_SWAP_STORE; default: your config directory)',
    valueHint: 'path',
  },
} as const;

export function storePath(flag: unknown): string {
  return typeof flag === 'string' && flag !== '' ? flag : process.env.TOKEN_SWAP_STORE || defaultStorePath();
}

export function openStore(flag: unknown) {
  return createFileStore(storePath(flag));
}

const LOGIN_AGAIN = 'Run `token-swap login --swap-url URL --client-id ID` to log in again.';

/** Turns what the client kit throws into a sentence a person can act on, and an exit code. */
export function explain(error: unknown): CliFailure {
  if (error instanceof CliFailure) return error;
  if (error instanceof LoginRequiredError) {
    const message =
      error.code === 'not_logged_in'
        ? 'Not logged in. Run `token-swap login --swap-url URL --client-id ID` first.'
        : `${error.message}. ${LOGIN_AGAIN}`;
    return new CliFailure(message, EXIT.loginRequired);
  }
  if (error instanceof SwapServiceUnreachableError) {
    return new CliFailure(
      `${error.message}. Is the swap service running, and is the URL right?`,
      EXIT.serviceUnavailable,
    );
  }
  if (error instanceof SwapServiceError) {
    const detail = error.errorDescription ? `${error.error}: ${error.errorDescription}` : error.error;
    if (error.status === 429 || error.status >= 500) {
      const wait = error.retryAfter !== undefined ? ` Try again in ${error.retryAfter} s.` : '';
      return new CliFailure(
        `The swap service could not get tokens (${detail}).${wait}`,
        EXIT.serviceUnavailable,
      );
    }
    return new CliFailure(`The swap service refused the request (${detail}).`, EXIT.failure);
  }
  if (error instanceof AuthorizationError) {
    const hint: Record<AuthorizationError['code'], string> = {
      access_denied: 'Login cancelled in the browser.',
      state_mismatch: `${error.message}. Nothing was stored; run login again.`,
      timeout: `${error.message}. Run login again and finish it in the browser.`,
      aborted: 'Login aborted.',
      authorization_error: `${error.message}.`,
      invalid_callback: `${error.message}.`,
    };
    return new CliFailure(hint[error.code], EXIT.authorizationFailed);
  }
  if (error instanceof TokenStoreError) {
    return new CliFailure(error.message, EXIT.failure);
  }
  throw error;
}

export function describeExpiry(tokens: TokenSet, now = Date.now()): string {
  const seconds = Math.round((tokens.expiresAt - now) / 1000);
  const at = new Date(tokens.expiresAt).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  if (seconds <= 0) return `expired at ${at}`;
  const minutes = Math.floor(seconds / 60);
  return `valid until ${at} (${minutes > 0 ? `${minutes} min` : `${seconds} s`} left)`;
}

export interface Profile {
  id?: string;
  display_name?: string | null;
  email?: string;
}

/** GET {apiUrl}/v1/me: who is logged in. Undefined when it cannot be had; never fatal. */
export async function fetchProfile(apiUrl: string, accessToken: string): Promise<Profile | undefined> {
  try {
    const response = await fetch(`${apiUrl.replace(/\/+$/, '')}/v1/me`, {
      headers: { Authorization: `Bearer ${accessToken}` },
      signal: AbortSignal.timeout(5_000),
    });
    return response.ok ? ((await response.json()) as Profile) : undefined;
  } catch {
    return undefined;
  }
}

export function describeUser(profile: Profile | undefined): string {
  if (!profile?.id) return 'a Spotify user (profile unavailable)';
  return profile.display_name ? `${profile.display_name} (${profile.id})` : profile.id;
}

/** Runs a command body, turning known failures into a message on stderr and an exit code. */
export async function runAppSide(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    const failure = explain(error);
    process.stderr.write(`token-swap: ${failure.message}\n`);
    process.exit(failure.exitCode);
  }
}
