/**
 * What the app-side commands (login, token, refresh, status, logout) share: where the login is
 * stored, the hint that says how to log in again, and the Web API profile call. (How their failures
 * become exit codes is in fail.ts; how they say when a token expires, in expiry.ts.)
 */
import { LoginRequiredError, type TokenStore } from '../client/index.js';
import { createFileStore, defaultStorePath } from '../client/node/index.js';
import { readTextUpTo } from '../shared/body.js';
import { loginRequiredFailure } from './fail.js';
import type { CliIo } from './io.js';
import { knownLoginValues, loginCommand } from './login-command.js';
import { oneLine } from './terminal-text.js';

export const storeFlag = {
  store: {
    type: 'string',
    description: 'Where the login is kept (TOKEN_SWAP_STORE, default tokens.json in your config directory)',
    valueHint: 'path',
  },
} as const;

export function storePath(flag: unknown, env: CliIo['env']): string {
  return typeof flag === 'string' && flag !== '' ? flag : env.TOKEN_SWAP_STORE || defaultStorePath(env);
}

export function openStore(flag: unknown, env: CliIo['env']) {
  return createFileStore(storePath(flag, env));
}

/**
 * Runs an app-side command. When it ends in "log in (again)", the failure carries the whole login
 * command, with what the login said before the command ran (a rejected refresh token clears it).
 */
export async function withLoginHint<T>(
  store: TokenStore,
  flag: unknown,
  env: CliIo['env'],
  action: () => Promise<T>,
): Promise<T> {
  const before = await store.load().catch(() => undefined);
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof LoginRequiredError)) throw error;
    throw loginRequiredFailure(error, loginCommand(knownLoginValues(before, flag, env)));
  }
}

export interface Profile {
  id?: string;
  display_name?: string | null;
}

/** Spotify's profile is well under 2 KiB; a Web API that sends more is not read further. */
const MAX_PROFILE_BYTES = 64 * 1024;

/** The profile's fields the CLI shows, when they are strings: the answer is the network's to shape. */
function profileOf(body: unknown): Profile | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { id, display_name } = body as Record<string, unknown>;
  if (typeof id !== 'string') return undefined;
  return typeof display_name === 'string' ? { id, display_name } : { id };
}

/** GET {apiUrl}/v1/me: who is logged in. Undefined when it cannot be had; never fatal. */
export async function fetchProfile(apiUrl: string, accessToken: string): Promise<Profile | undefined> {
  try {
    const response = await fetch(`${apiUrl.replace(/\/+$/, '')}/v1/me`, {
      headers: { Authorization: `Bearer ${accessToken}` },
      // Never followed: the access token would go with it.
      redirect: 'manual',
      signal: AbortSignal.timeout(5_000),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    return profileOf(JSON.parse(await readTextUpTo(response, MAX_PROFILE_BYTES)));
  } catch {
    return undefined;
  }
}

/** `Name (id)`, each on one line: a display name is anything its owner typed. */
export function describeUser(profile: Profile | undefined): string {
  const id = profile?.id ? oneLine(profile.id) : '';
  if (!id) return 'a Spotify user (profile unavailable)';
  const name = profile?.display_name ? oneLine(profile.display_name) : '';
  return name ? `${name} (${id})` : id;
}
