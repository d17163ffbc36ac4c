/** What a person sees on stderr when a server starts (logs go to stdout as JSON). */
import { appPrefix } from '../server/app.js';
import type { AppConfig } from '../server/config/index.js';
import { isLoopbackRedirectUri } from '../shared/redirect-uri.js';

/** A concrete redirect URI for examples: a port-less loopback entry gets port 8888. */
function exampleRedirectUri(app: Pick<AppConfig, 'redirectUris'>): string {
  const first = app.redirectUris[0] ?? 'http://127.0.0.1/callback';
  if (isLoopbackRedirectUri(first) && !/^http:\/\/(127\.0\.0\.1|\[::1\]):\d+/.test(first)) {
    return first.replace(/^(http:\/\/(?:127\.0\.0\.1|\[::1\]))/, '$1:8888');
  }
  return first;
}

export function serviceBanner(options: { serviceUrl: string; apps: readonly AppConfig[] }): string {
  const { serviceUrl, apps } = options;
  const lines = apps.map((app) => {
    const base = `${serviceUrl}${appPrefix(app)}`;
    return `  ${app.name.padEnd(10)} POST ${base}/swap, POST ${base}/refresh   (sealing ${app.encryptionSecrets.length > 0 ? 'on' : 'OFF'}, upstream ${app.accountsUrl})`;
  });
  return `
spotify-token-swap is listening on ${serviceUrl}
${lines.join('\n')}

`;
}

/**
 * The sandbox's control token and how to use it. A secret of the sandbox only, made for the run: the
 * person who started it needs it to reach the control endpoints from elsewhere, so it is printed here,
 * on stderr, and never logged (src/sandbox/control.ts says who may control the sandbox without it).
 */
export function controlTokenLine(label: string, controlPath: string, token: string): string {
  return `  ${label}${token}   (for ${controlPath}/* from another machine: Authorization: Bearer ${token})`;
}

export function sandboxBanner(options: {
  serviceUrl: string;
  accountsUrl: string;
  app: AppConfig;
  printSecret: boolean;
  /** How refresh tokens are sealed in this run, e.g. `on (a secret for this run: ...)`. */
  sealing: string;
  controlToken: string;
}): string {
  const { serviceUrl, accountsUrl, app, printSecret, sealing, controlToken } = options;
  const redirectUri = exampleRedirectUri(app);
  const authorize = new URL(`${accountsUrl}/authorize`);
  authorize.search = new URLSearchParams({
    client_id: app.clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'user-read-email user-read-private',
    state: 'demo',
  }).toString();
  return `
spotify-token-swap is running in SANDBOX mode: a fake Spotify Accounts answers at ${accountsUrl}
(nothing here talks to Spotify).

  Swap service     ${serviceUrl}   (POST /swap, POST /refresh, POST /revoke)
  OAuth metadata   ${serviceUrl}/.well-known/oauth-authorization-server   (POST /token, for any OAuth library)
  Fake Accounts    ${accountsUrl}  (GET /authorize, POST /api/token)
  Client ID        ${app.clientId}
  Client secret    ${printSecret ? app.clientSecret : '(from SPOTIFY_CLIENT_SECRET, not shown)'}
  Redirect URIs    ${app.redirectUris.join(', ')}
  Sealing          ${sealing}
${controlTokenLine('Control token    ', `${new URL(accountsUrl).pathname}/__sandbox`, controlToken)}

See the whole flow in a browser: ${serviceUrl}/demo

Or step by step: open this URL in a browser and click Agree:
  ${authorize.href}
The browser then goes to ${redirectUri}?code=...&state=demo (nothing listens there, which is fine).
Copy the code from the address bar and exchange it:
  curl -s ${serviceUrl}/swap -d code=PASTE_THE_CODE -d redirect_uri=${redirectUri}

`;
}
