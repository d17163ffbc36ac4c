/**
 * What the app-side commands (login, token, refresh, status, logout) share: where the login is
 * stored, and the Web API profile call. (How their failures become exit codes is in fail.ts.)
 */
import type { TokenSet } from '../client/index.js';
import { createFileStore, defaultStorePath } from '../client/node/index.js';
import type { CliIo } from './io.js';

export const storeFlag = {
  store: {
    type: 'string',
    description: 'Where the login is kept (TOKEN_SWAP_STORE; default: your config directory)',
    valueHint: 'path',
  },
} as const;

export function storePath(flag: unknown, env: CliIo['env']): string {
  return typeof flag === 'string' && flag !== '' ? flag : env.TOKEN_SWAP_STORE || defaultStorePath(env);
}

export function openStore(flag: unknown, env: CliIo['env']) {
  return createFileStore(storePath(flag, env));
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
