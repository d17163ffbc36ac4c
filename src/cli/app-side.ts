/**
 * What the app-side commands (login, token, refresh, status, logout) share: where the login is
 * stored, the hint that says how to log in again, the warning in a login's last days, and the Web API
 * profile call. (How their failures become exit codes is in fail.ts; how they say when a token
 * expires, in expiry.ts.)
 */
import {
  describeWebApiError,
  LoginRequiredError,
  readWebApiError,
  type StoredLogin,
  signInNeed,
  type TokenSet,
  type TokenStore,
} from '../client/index.js';
import { createFileStore, defaultStorePath } from '../client/node/index.js';
import { readTextUpTo } from '../shared/body.js';
import { describeLoginEnd } from './expiry.js';
import { loginRequiredFailure } from './fail.js';
import type { CliIo, Writer } from './io.js';
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
 * Runs an app-side command, handing it the login as stored before it ran. When it ends in "log in
 * (again)", the failure carries the whole login command, with what that login said (a rejected
 * refresh token clears it).
 */
export async function withLoginHint<T>(
  store: TokenStore,
  flag: unknown,
  env: CliIo['env'],
  action: (before: StoredLogin | undefined) => Promise<T>,
): Promise<T> {
  const before = await store.load().catch(() => undefined);
  try {
    return await action(before);
  } catch (error) {
    if (!(error instanceof LoginRequiredError)) throw error;
    throw loginRequiredFailure(error, loginCommand(knownLoginValues(before, flag, env)));
  }
}

/**
 * In the login's last days (the kit's 14), and once it has ended, a warning on stderr with the command
 * that signs in again: stdout stays what scripts read. Nothing otherwise, nor when the end is unknown.
 */
export function warnIfLoginEnding(
  stderr: Writer,
  tokens: TokenSet,
  now: number,
  hint: { login: StoredLogin | undefined; storeFlag: unknown; env: CliIo['env'] },
): void {
  const need = signInNeed(tokens, now);
  if ((need !== 'soon' && need !== 'ended') || tokens.refreshTokenExpiresAt === undefined) return;
  const command = loginCommand(knownLoginValues(hint.login, hint.storeFlag, hint.env));
  const when = describeLoginEnd(tokens.refreshTokenExpiresAt, now);
  stderr.write(
    need === 'soon'
      ? `Warning: ${when}: the login ends then, however often it is refreshed. Run \`${command}\` before then.\n`
      : `Warning: ${when}, so the next refresh will fail. Run \`${command}\` to log in again.\n`,
  );
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

/**
 * GET {apiUrl}/v1/me: who is logged in. Undefined when it cannot be had; never fatal. When the Web
 * API refused, why goes to stderr (a spent quota reads as such, not as a bare 429).
 */
export async function fetchProfile(
  apiUrl: string,
  accessToken: string,
  stderr: Writer,
): Promise<Profile | undefined> {
  try {
    const response = await fetch(`${apiUrl.replace(/\/+$/, '')}/v1/me`, {
      headers: { Authorization: `Bearer ${accessToken}` },
      // Never followed: the access token would go with it.
      redirect: 'manual',
      signal: AbortSignal.timeout(5_000),
    });
    if (response.ok) return profileOf(JSON.parse(await readTextUpTo(response, MAX_PROFILE_BYTES)));
    stderr.write(`Warning: GET /v1/me: ${describeWebApiError(await readWebApiError(response))}.\n`);
    return undefined;
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
