import { defineCommand } from 'citty';
import {
  AuthorizationError,
  createAuthorizeUrl,
  createDpopKey,
  createSwapClient,
  SPOTIFY_ACCOUNTS_URL,
  type TokenSet,
  tokenSetFromResponse,
} from '../../client/index.js';
import { DEFAULT_LOGIN_TIMEOUT_MS, startLoopbackCatcher } from '../../client/node/index.js';
import { describeUser, fetchProfile, openStore, storeFlag, storePath } from '../app-side.js';
import { describeExpiry } from '../expiry.js';
import { CliFailure, EXIT, knownFailure, listenError } from '../fail.js';
import { ioOf } from '../io.js';
import { checkSwapService, redirectUriFailure, warnIfInsecure } from '../login-checks.js';
import { type CliLogin, loginCommand } from '../login-command.js';
import { DEFAULT_LOGIN_SCOPES, type LoginOptions, loginOptions, swapUrlOf } from '../login-options.js';
import { openBrowser } from '../open-browser.js';
import { fetchServiceMetadata } from '../service-metadata.js';

/** A taken --port is the user's to change: one line, not a stack. */
async function startCatcher(port: number) {
  try {
    return await startLoopbackCatcher({ port });
  } catch (error) {
    const listen = listenError(error);
    if (!listen) throw error;
    throw new CliFailure(
      `cannot listen on ${listen.address}:${listen.port} for the redirect (${listen.code}); choose another --port, or leave it out for any free port`,
    );
  }
}

/**
 * What a failed login says, in the terminal and on the browser's page alike: the redirect URI that
 * Spotify refused, or how to run the login again, with the values this one had.
 */
function loginFailure(
  error: unknown,
  options: LoginOptions,
  redirectUri: string,
  flags: Record<string, unknown>,
): unknown {
  const refused = redirectUriFailure(error, redirectUri, options.port);
  if (refused) return refused;
  // A redirect of another login (an old tab, a forged request) does not end this one: it times out.
  if (error instanceof AuthorizationError && error.code === 'timeout') {
    const given = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
    const again = loginCommand({ ...options, scope: given('scope'), store: given('store') });
    return new CliFailure(
      `${error.message}. Run it again, and finish it in the browser: ${again}`,
      EXIT.authorizationFailed,
    );
  }
  return error;
}

/** What the browser's page says when the swap failed: the sentence the terminal prints, no more. */
function browserMessage(error: unknown): string {
  return knownFailure(error)?.message ?? 'Something unexpected went wrong; the terminal says what.';
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
      description:
        "Client ID of the Spotify app (SPOTIFY_CLIENT_ID; default the service's spotify_client_id, when it publishes one)",
      valueHint: 'id',
    },
    scope: {
      type: 'string',
      description: `Scopes, space- or comma-separated (default ${DEFAULT_LOGIN_SCOPES.join(' ')})`,
      valueHint: 'scopes',
    },
    port: {
      type: 'string',
      description: 'Loopback port for the redirect (default 0: any free port)',
      valueHint: 'port',
    },
    open: {
      type: 'boolean',
      description: 'Open the system browser (the default)',
      negativeDescription: 'Print the URL instead of opening a browser',
    },
    'show-dialog': { type: 'boolean', description: 'Ask for consent again even if already given' },
    'accounts-url': {
      type: 'string',
      description: `Spotify Accounts base URL; a sandbox's to test (SPOTIFY_ACCOUNTS_URL, default the service's authorization_endpoint, else ${SPOTIFY_ACCOUNTS_URL})`,
      valueHint: 'url',
    },
    'api-url': {
      type: 'string',
      description:
        'Spotify Web API base URL (default https://api.spotify.com, or the --accounts-url of a sandbox)',
      valueHint: 'url',
    },
    timeout: {
      type: 'string',
      description: `How long to wait for the browser (default ${DEFAULT_LOGIN_TIMEOUT_MS / 1000})`,
      valueHint: 'seconds',
    },
    ...storeFlag,
  },
  async run(context) {
    const { args } = context;
    const { stdout, stderr, env, signals, now } = ioOf(context);
    const swapUrl = swapUrlOf(args, env);
    const options = loginOptions(args, env, swapUrl, await fetchServiceMetadata(swapUrl, stderr));
    const store = openStore(args.store, env);
    warnIfInsecure(options.swapUrl, stderr);

    const catcher = await startCatcher(options.port);
    const abort = new AbortController();
    // The first Ctrl-C aborts the login; the next one is the shell's again.
    const onSignal = () => {
      signals.off('SIGINT', onSignal);
      abort.abort();
    };
    signals.on('SIGINT', onSignal);
    try {
      // Before the browser: a consent given while nothing can swap the code is lost.
      await checkSwapService(options.swapUrl);
      const authorize = await createAuthorizeUrl({
        clientId: options.clientId,
        redirectUri: catcher.redirectUri,
        scopes: options.scopes,
        showDialog: args['show-dialog'] === true,
        accountsUrl: options.accountsUrl,
      });
      const waiting = catcher.waitForCode({
        state: authorize.state,
        timeoutMs: options.timeoutMs,
        signal: abort.signal,
      });
      const opened = args.open !== false && (await openBrowser(authorize.url, env));
      stdout.write(
        opened
          ? `Opened your browser to log in. If it did not open, visit:\n  ${authorize.url}\n`
          : `Open this URL in your browser to log in:\n  ${authorize.url}\n`,
      );
      stdout.write(`Waiting for the redirect to ${catcher.redirectUri} ...\n`);
      const { code } = await waiting.catch((error: unknown) => {
        throw loginFailure(error, options, catcher.redirectUri, args);
      });

      // The browser's page waits for this outcome, so that it never says "Logged in" too early.
      let user: string;
      let tokens: TokenSet;
      try {
        // A new key per login, extractable: the file store keeps it (src/client/node/file-store.ts).
        const dpopKey = options.dpop ? await createDpopKey({ extractable: true }) : undefined;
        const client = createSwapClient({ swapUrl: options.swapUrl, ...(dpopKey ? { dpopKey } : {}) });
        const response = await client.swap(code, {
          redirectUri: authorize.redirectUri,
          codeVerifier: authorize.codeVerifier,
          signal: abort.signal,
        });
        tokens = tokenSetFromResponse(response, now());
        const { swapUrl, clientId, apiUrl, accountsUrl } = options;
        const login: CliLogin = {
          swapUrl,
          clientId,
          apiUrl,
          accountsUrl,
          tokens,
          ...(dpopKey ? { dpopKey } : {}),
        };
        await store.save(login);
        user = describeUser(await fetchProfile(apiUrl, tokens.accessToken, stderr));
      } catch (error) {
        const failure = loginFailure(error, options, authorize.redirectUri, args);
        catcher.showResult({ ok: false, message: browserMessage(failure) });
        throw failure;
      }
      catcher.showResult({ ok: true, message: `Logged in as ${user}.` });
      stdout.write(
        [
          `Logged in as ${user}.`,
          `  Scopes:        ${tokens.scopes.join(' ') || '(none)'}`,
          `  Access token:  ${describeExpiry(tokens.expiresAt, now())}; \`token-swap token\` refreshes it when needed`,
          `  Refresh token: ${tokens.refreshToken ? 'stored' : 'none (log in again when the access token expires)'}`,
          ...(options.dpop
            ? ['  DPoP:          a key of this login, stored with it, signs each refresh and the logout']
            : []),
          `  Saved to:      ${storePath(args.store, env)}`,
          '',
        ].join('\n'),
      );
    } finally {
      signals.off('SIGINT', onSignal);
      await catcher.close();
    }
  },
});
