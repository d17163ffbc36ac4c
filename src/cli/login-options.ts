/**
 * What a `login` is to do: the flags and the environment, and where they are silent, what the swap
 * service's metadata says (service-metadata.ts). A flag or a variable always wins: the user said it.
 */
import { SPOTIFY_ACCOUNTS_URL } from '../client/index.js';
import { DEFAULT_LOGIN_TIMEOUT_MS } from '../client/node/index.js';
import { parseScopes, SPOTIFY_SCOPES } from '../shared/scopes.js';
import { CliFailure, EXIT } from './fail.js';
import type { CliIo } from './io.js';
import type { ServiceMetadata } from './service-metadata.js';

export const DEFAULT_LOGIN_SCOPES = ['user-read-email', 'user-read-private'];

export interface LoginOptions {
  swapUrl: string;
  clientId: string;
  accountsUrl: string;
  apiUrl: string;
  scopes: string[];
  port: number;
  timeoutMs: number;
  /** Sign proofs with a new DPoP key: the service's metadata says it takes them. */
  dpop: boolean;
}

type Args = Record<string, unknown>;

const flagOf = (args: Args) => (name: string) =>
  typeof args[name] === 'string' ? (args[name] as string) : undefined;

/** The Web API is at api.spotify.com for Spotify, and beside the fake Accounts for the sandbox. */
function defaultApiUrl(accountsUrl: string): string {
  return accountsUrl === SPOTIFY_ACCOUNTS_URL ? 'https://api.spotify.com' : accountsUrl;
}

function required(value: unknown, flag: string, variable: string, why = ''): string {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  throw new CliFailure(`--${flag} is required (or set ${variable})${why}`, EXIT.usage);
}

function url(value: string, flag: string): string {
  try {
    return new URL(value).href.replace(/\/+$/, '');
  } catch {
    throw new CliFailure(`--${flag}: "${value}" is not an absolute URL`, EXIT.usage);
  }
}

/** --swap-url (or TOKEN_SWAP_URL): needed first, to ask the service for its metadata. */
export function swapUrlOf(args: Args, env: CliIo['env']): string {
  const flag = flagOf(args);
  return url(required(flag('swap-url') ?? env.TOKEN_SWAP_URL, 'swap-url', 'TOKEN_SWAP_URL'), 'swap-url');
}

function scopesOf(scope: string | undefined): string[] {
  const scopes = scope === undefined ? DEFAULT_LOGIN_SCOPES : parseScopes(scope.replace(/,/g, ' '));
  const unknown = scopes.filter((name) => !SPOTIFY_SCOPES.has(name));
  if (unknown.length > 0) {
    throw new CliFailure(
      `Unknown scope: ${unknown.join(', ')} (Spotify would answer "Illegal scope")`,
      EXIT.usage,
    );
  }
  return scopes;
}

/** The flags, the environment and the metadata as a login to run, or a usage failure that says what is wrong. */
export function loginOptions(
  args: Args,
  env: CliIo['env'],
  swapUrl: string,
  metadata: ServiceMetadata,
): LoginOptions {
  const flag = flagOf(args);
  const clientId = required(
    flag('client-id') ?? env.SPOTIFY_CLIENT_ID ?? metadata.clientId,
    'client-id',
    'SPOTIFY_CLIENT_ID',
    ': the swap service does not publish it (spotify_client_id in its metadata)',
  );
  const accountsUrl = url(
    flag('accounts-url') ?? env.SPOTIFY_ACCOUNTS_URL ?? metadata.accountsUrl ?? SPOTIFY_ACCOUNTS_URL,
    'accounts-url',
  );
  const apiUrl = url(flag('api-url') ?? defaultApiUrl(accountsUrl), 'api-url');
  const scopes = scopesOf(flag('scope'));
  const port = flag('port') === undefined ? 0 : Number(flag('port'));
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new CliFailure('--port must be a whole number from 0 to 65535', EXIT.usage);
  }
  const timeout = flag('timeout');
  const timeoutMs = timeout === undefined ? DEFAULT_LOGIN_TIMEOUT_MS : Number(timeout) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new CliFailure('--timeout must be a positive number of seconds', EXIT.usage);
  }
  return { swapUrl, clientId, accountsUrl, apiUrl, scopes, port, timeoutMs, dpop: metadata.dpop };
}
