/**
 * The `token-swap login` command line that a hint prints: with every value the CLI knows (from the
 * stored login, the flags, the environment), so that it can be run as it stands, and a placeholder
 * for what it does not know.
 */
import { SPOTIFY_ACCOUNTS_URL, type StoredLogin } from '../client/index.js';

/** A login as the CLI stores it: the kit's, plus the Accounts URL, so that a hint can repeat it. */
export interface CliLogin extends StoredLogin {
  accountsUrl?: string;
}

export interface LoginValues {
  swapUrl?: string | undefined;
  clientId?: string | undefined;
  accountsUrl?: string | undefined;
  /** Only when given with --store: otherwise the default (or TOKEN_SWAP_STORE) applies again. */
  store?: string | undefined;
  /** What the login being repeated asked for, when not the defaults. */
  scope?: string | undefined;
  port?: number | undefined;
}

/** A value as one shell word: quoted only when it has to be. */
function shellWord(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,[\]-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export function loginCommand(values: LoginValues): string {
  const words = [
    'token-swap login',
    `--swap-url ${values.swapUrl ? shellWord(values.swapUrl) : 'URL'}`,
    `--client-id ${values.clientId ? shellWord(values.clientId) : 'ID'}`,
  ];
  if (values.accountsUrl && values.accountsUrl !== SPOTIFY_ACCOUNTS_URL) {
    words.push(`--accounts-url ${shellWord(values.accountsUrl)}`);
  }
  if (values.scope) words.push(`--scope ${shellWord(values.scope)}`);
  // A fixed port is what the redirect URI was registered with.
  if (values.port) words.push(`--port ${values.port}`);
  if (values.store) words.push(`--store ${shellWord(values.store)}`);
  return words.join(' ');
}

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

/** What a stored login (if any), the --store flag and the environment say about the next login. */
export function knownLoginValues(
  login: StoredLogin | undefined,
  storeFlag: unknown,
  env: Readonly<Record<string, string | undefined>>,
): LoginValues {
  return {
    swapUrl: text(login?.swapUrl) ?? text(env.TOKEN_SWAP_URL),
    clientId: text(login?.clientId) ?? text(env.SPOTIFY_CLIENT_ID),
    accountsUrl: text((login as CliLogin | undefined)?.accountsUrl) ?? text(env.SPOTIFY_ACCOUNTS_URL),
    store: text(storeFlag),
  };
}
