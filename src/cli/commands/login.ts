import { defineCommand } from 'citty';
import {
  createAuthorizeUrl,
  createSwapClient,
  SPOTIFY_ACCOUNTS_URL,
  type StoredLogin,
  tokenSetFromResponse,
} from '../../client/index.js';
import { DEFAULT_LOGIN_TIMEOUT_MS, startLoopbackCatcher } from '../../client/node/index.js';
import { parseScopes, SPOTIFY_SCOPES } from '../../shared/scopes.js';
import {
  describeExpiry,
  describeUser,
  EXIT,
  fetchProfile,
  openStore,
  runAppSide,
  storeFlag,
  storePath,
} from '../app-side.js';
import { CliFailure } from '../fail.js';
import { openBrowser } from '../open-browser.js';

export const DEFAULT_LOGIN_SCOPES = ['user-read-email', 'user-read-private'];

/** The Web API is at api.spotify.com for Spotify, and beside the fake Accounts for the sandbox. */
function defaultApiUrl(accountsUrl: string): string {
  return accountsUrl === SPOTIFY_ACCOUNTS_URL ? 'https://api.spotify.com' : accountsUrl;
}

function required(value: unknown, flag: string, variable: string): string {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  throw new CliFailure(`--${flag} is required (or set ${variable})`, EXIT.usage);
}

function url(value: string, flag: string): string {
  try {
    return new URL(value).href.replace(/\/+$/, '');
  } catch {
    throw new CliFailure(`--${flag}: "${value}" is not an absolute URL`, EXIT.usage);
  }
}

export default defineCommand({
  meta: { name: 'login', description: 'Log in with Spotify through a swap service and store the tokens' },
  args: {
    'swap-url': {
      type: 'string',
      description: 'Base URL of the swap service (TOKEN_SWAP_URL)',
      valueHint: 'url',
    },
    'client-id': {
      type: 'string',
      description: 'Client ID of the Spotify app (SPOTIFY_CLIENT_ID)',
      valueHint: 'id',
    },
    scope: {
      type: 'string',
      description: `Scopes, space- or comma-separated (default: ${DEFAULT_LOGIN_SCOPES.join(' ')})`,
      valueHint: 'scopes',
    },
    port: {
      type: 'string',
      description: 'Loopback port for the redirect (default: any free port)',
      valueHint: 'n',
    },
    open: {
      type: 'boolean',
      default: true,
      description: 'Open the system browser',
      negativeDescription: 'Print the URL instead of opening a browser',
    },
    'show-dialog': { type: 'boolean', description: 'Ask for consent again even if already given' },
    'accounts-url': {
      type: 'string',
      description: `Spotify Accounts base URL (SPOTIFY_ACCOUNTS_URL, default ${SPOTIFY_ACCOUNTS_URL}; the sandbox's to test)`,
      valueHint: 'url',
    },
    'api-url': {
      type: 'string',
      description:
        'Spotify Web API base URL (default https://api.spotify.com, or --accounts-url for a sandbox)',
      valueHint: 'url',
    },
    timeout: { type: 'string', description: 'Seconds to wait for the browser (default 300)', valueHint: 's' },
    ...storeFlag,
  },
  run: ({ args }) =>
    runAppSide(async () => {
      const swapUrl = url(
        required(args['swap-url'] ?? process.env.TOKEN_SWAP_URL, 'swap-url', 'TOKEN_SWAP_URL'),
        'swap-url',
      );
      const clientId = required(
        args['client-id'] ?? process.env.SPOTIFY_CLIENT_ID,
        'client-id',
        'SPOTIFY_CLIENT_ID',
      );
      const accountsUrl = url(
        args['accounts-url'] ?? process.env.SPOTIFY_ACCOUNTS_URL ?? SPOTIFY_ACCOUNTS_URL,
        'accounts-url',
      );
      const apiUrl = url(args['api-url'] ?? defaultApiUrl(accountsUrl), 'api-url');
      const scopes =
        args.scope === undefined ? DEFAULT_LOGIN_SCOPES : parseScopes(args.scope.replace(/,/g, ' '));
      const unknown = scopes.filter((scope) => !SPOTIFY_SCOPES.has(scope));
      if (unknown.length > 0) {
        throw new CliFailure(
          `Unknown scope: ${unknown.join(', ')} (Spotify would answer "Illegal scope")`,
          EXIT.usage,
        );
      }
      const port = args.port === undefined ? 0 : Number(args.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535) {
        throw new CliFailure('--port must be a whole number from 0 to 65535', EXIT.usage);
      }
      const timeoutMs = args.timeout === undefined ? DEFAULT_LOGIN_TIMEOUT_MS : Number(args.timeout) * 1000;
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
        throw new CliFailure('--timeout must be a positive number of seconds', EXIT.usage);
      }
      const store = openStore(args.store);

      const catcher = await startLoopbackCatcher({ port });
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      try {
        const authorize = await createAuthorizeUrl({
          clientId,
          redirectUri: catcher.redirectUri,
          scopes,
          showDialog: args['show-dialog'] === true,
          accountsUrl,
        });
        const waiting = catcher.waitForCode({ state: authorize.state, timeoutMs, signal: abort.signal });
        const opened = args.open !== false && (await openBrowser(authorize.url));
        process.stdout.write(
          opened
            ? `Opened your browser to log in. If it did not open, visit:\n  ${authorize.url}\n`
            : `Open this URL in your browser to log in:\n  ${authorize.url}\n`,
        );
        process.stdout.write(`Waiting for the redirect to ${catcher.redirectUri} ...\n`);
        const { code } = await waiting;

        const client = createSwapClient({ swapUrl });
        const response = await client.swap(code, {
          redirectUri: authorize.redirectUri,
          codeVerifier: authorize.codeVerifier,
          signal: abort.signal,
        });
        const tokens = tokenSetFromResponse(response);
        const login: StoredLogin = { swapUrl, clientId, apiUrl, tokens };
        await store.save(login);

        const profile = await fetchProfile(apiUrl, tokens.accessToken);
        process.stdout.write(
          [
            `Logged in as ${describeUser(profile)}.`,
            `  Scopes:        ${tokens.scopes.join(' ') || '(none)'}`,
            `  Access token:  ${describeExpiry(tokens)}; \`token-swap token\` refreshes it when needed`,
            `  Refresh token: ${tokens.refreshToken ? 'stored' : 'none (log in again when the access token expires)'}`,
            `  Saved to:      ${storePath(args.store)}`,
            '',
          ].join('\n'),
        );
      } finally {
        process.off('SIGINT', onSignal);
        await catcher.close();
      }
    }),
});
