/** Checks that need no network: redirect URIs, credentials' shape, sealing secrets. */
import {
  type AppConfig,
  GENERATE_SECRET,
  NO_SEALING,
  type SealingSecrets,
  secretProblems,
} from '../../server/config/index.js';
import { checkRedirectUri, isLoopbackRedirectUri } from '../../shared/redirect-uri.js';
import { type Finding, fail, ok, warn } from './findings.js';

export function checkRedirectUris(uris: readonly string[]): Finding[] {
  if (uris.length === 0) {
    return [
      fail(
        'Redirect URIs',
        'none configured',
        'Set SPOTIFY_REDIRECT_URI to the redirect URI(s) registered for your app in the Spotify dashboard',
      ),
    ];
  }
  return uris.map((uri) => {
    const subject = `Redirect URI ${uri}`;
    const verdict = checkRedirectUri(uri);
    if (verdict.problem === 'localhost') {
      return fail(
        subject,
        'uses localhost, which Spotify refuses since November 2025',
        `Use ${uri.replace('localhost', '127.0.0.1')} here and in the Spotify dashboard`,
      );
    }
    if (verdict.problem === 'insecure') {
      return fail(
        subject,
        'uses plain http on a host that is not loopback; Spotify refuses it',
        `Use https://${uri.slice('http://'.length)}, or a loopback address (http://127.0.0.1) for local tools`,
      );
    }
    if (!verdict.ok) {
      return fail(
        subject,
        verdict.reason ?? 'is not a valid redirect URI',
        'Use an absolute URI without a fragment',
      );
    }
    const url = new URL(uri);
    if (isLoopbackRedirectUri(uri) && /^http:\/\/(127\.0\.0\.1|\[::1\]):\d+/.test(uri)) {
      return warn(
        subject,
        'a loopback URI with a port matches only that port',
        `Register ${uri.replace(/:\d+(?=\/|$)/, '')} (no port) in the dashboard and here, so that any port matches (RFC 8252 §7.3), unless your app always uses port ${url.port}`,
      );
    }
    if (url.pathname.length > 1 && url.pathname.endsWith('/')) {
      return warn(
        subject,
        'ends with a slash; Spotify matches redirect URIs exactly, slash included',
        'Make sure the dashboard entry and the URI your app sends are written exactly like this one',
      );
    }
    return ok(subject, isLoopbackRedirectUri(uri) ? 'allowed (loopback, any port)' : 'allowed');
  });
}

/** Spotify client ids and secrets are 32 lowercase hex characters. */
const SPOTIFY_CREDENTIAL = /^[0-9a-f]{32}$/;

export function checkCredentialShape(app: Pick<AppConfig, 'clientId' | 'clientSecret'>): Finding[] {
  if (!app.clientId || !app.clientSecret) {
    // Reported as missing configuration; nothing more to say about their shape.
    return [];
  }
  const findings: Finding[] = [];
  findings.push(
    SPOTIFY_CREDENTIAL.test(app.clientId)
      ? ok('Client ID', 'looks like a Spotify client id')
      : warn(
          'Client ID',
          `"${app.clientId}" does not look like a Spotify client id (32 hexadecimal characters)`,
          'Copy the Client ID from your app page on developer.spotify.com/dashboard (fine to ignore for the sandbox)',
        ),
  );
  findings.push(
    SPOTIFY_CREDENTIAL.test(app.clientSecret)
      ? ok('Client secret', 'looks like a Spotify client secret')
      : warn(
          'Client secret',
          'does not look like a Spotify client secret (32 hexadecimal characters); its value is not shown',
          'Copy the Client secret from your app page (View client secret); watch for spaces or quotes',
        ),
  );
  return findings;
}

function distinctCharacters(secret: string): number {
  return new Set(secret).size;
}

export function checkSealingSecrets(secrets: SealingSecrets): Finding[] {
  if (secrets === NO_SEALING) {
    return [
      warn(
        'ENCRYPTION_SECRET',
        `${NO_SEALING}: sealing is off by choice, so refresh tokens are handed to clients unsealed`,
        `Seal them: set ENCRYPTION_SECRET to a secret from ${GENERATE_SECRET}, and keep a copy (tokens sealed with it need it)`,
      ),
    ];
  }
  if (secrets.length === 0) {
    return [
      fail(
        'ENCRYPTION_SECRET',
        'not set: the service refuses to start without a sealing secret',
        `Set ENCRYPTION_SECRET=$(token-swap secret) (or $(openssl rand -base64 48)) and keep a copy: tokens sealed with it need it. To hand refresh tokens out unsealed instead, set ENCRYPTION_SECRET=${NO_SEALING}`,
      ),
    ];
  }
  return secrets.map((secret, index) => {
    const subject = `ENCRYPTION_SECRET #${index + 1}`;
    // The service's own rule, so that the doctor and `serve` never disagree.
    const [problem] = secretProblems([secret]);
    if (problem !== undefined) {
      return fail(
        subject,
        problem.replace(/^secret #1 /, '').split(';')[0] ?? problem,
        `Generate one with ${GENERATE_SECRET}`,
      );
    }
    // A long secret made of few symbols ("aaaa…", "1234123412…") is long but guessable.
    if (distinctCharacters(secret) < 12) {
      return warn(
        subject,
        `uses only ${distinctCharacters(secret)} distinct characters; it looks typed, not random`,
        `Generate one with ${GENERATE_SECRET}; keep the old one after it to rotate: ENCRYPTION_SECRET=new,old`,
      );
    }
    return ok(subject, `${secret.length} characters, looks random`);
  });
}
