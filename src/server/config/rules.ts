/**
 * The rules a configuration value must follow, each written once and used for the environment and the
 * apps file alike. Each returns sentences for a person; none of them echoes a secret.
 */
import { checkRedirectUri } from '../../shared/redirect-uri.js';

/** Sealing secrets are stretched with HKDF, but must carry enough entropy to begin with. */
const MIN_SECRET_LENGTH = 32;

/**
 * The operator's explicit opt-out of refresh-token sealing, as the value of ENCRYPTION_SECRET (or of
 * an app's `encryptionSecrets` in the apps file). Without a secret and without it, the service does
 * not start: refresh tokens are sealed by default.
 */
export const NO_SEALING = 'none';

/** Sealing secrets as configured: the list, or the explicit opt-out. */
export type SealingSecrets = readonly string[] | typeof NO_SEALING;

/** A comma-separated list of secrets, or the opt-out. */
export function parseSealingSecrets(value: string | undefined): SealingSecrets {
  return value?.trim() === NO_SEALING ? NO_SEALING : splitList(value);
}

/** What to run to get a secret, for every message that asks for one. */
export const GENERATE_SECRET = '`token-swap secret` (or `openssl rand -base64 48`)';

/** Splits a comma-separated list, trimming blanks. */
export function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** Spotify's redirect URI rules (src/shared/redirect-uri.ts). */
export function redirectUriProblems(uris: readonly string[]): string[] {
  if (uris.length === 0) return ['must hold at least one redirect URI'];
  return uris.flatMap((uri) => {
    const verdict = checkRedirectUri(uri);
    return verdict.ok ? [] : [verdict.reason ?? `"${uri}" is not allowed`];
  });
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * An absolute URL that is https, or plain http on loopback (a local sandbox): what every base URL the
 * configuration names must be. The URL, or the one problem that it is none.
 */
function parseServiceUrl(
  value: string,
): { url: URL; problems: string[] } | { url: undefined; problem: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { url: undefined, problem: `"${value}" is not an absolute URL` };
  }
  const plainOnLoopback = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  return {
    url,
    problems:
      url.protocol === 'https:' || plainOnLoopback
        ? []
        : ['must use https (plain http is allowed on loopback only)'],
  };
}

/** The Accounts base URL without a trailing slash, and what is wrong with it. */
export function checkAccountsUrl(value: string): { href: string | undefined; problems: string[] } {
  // The client secret travels in requests to it: plain http is for a local sandbox only.
  const parsed = parseServiceUrl(value);
  if (parsed.url === undefined) return { href: undefined, problems: [parsed.problem] };
  const { url, problems } = parsed;
  if (url.search || url.hash || url.username || url.password) {
    problems.push('must be a base URL without query, fragment or credentials');
  }
  return { href: url.href.replace(/\/+$/, ''), problems };
}

/**
 * PUBLIC_URL: the issuer of the metadata, which RFC 8414 §2 says is an https URL without query or
 * fragment; plain http only on loopback, for a local sandbox. The path must be `/`: every endpoint's
 * URL is the issuer plus the service's own path, and the service does not know of a prefix a proxy
 * might add.
 */
export function checkPublicUrl(value: string): { href: string | undefined; problems: string[] } {
  const parsed = parseServiceUrl(value);
  if (parsed.url === undefined) return { href: undefined, problems: [parsed.problem] };
  const { url, problems } = parsed;
  if (url.pathname !== '/') problems.push('must have no path (the service serves its endpoints at the root)');
  if (url.search || url.hash || value.includes('?') || value.includes('#')) {
    problems.push('must have no query or fragment');
  }
  if (url.username || url.password) problems.push('must not hold credentials');
  return { href: url.origin, problems };
}

export function secretProblems(secrets: readonly string[]): string[] {
  if (secrets.length > 1 && secrets.includes(NO_SEALING)) {
    return [`"${NO_SEALING}" turns sealing off and stands alone; it cannot be listed with secrets`];
  }
  return secrets.flatMap((secret, index) =>
    secret.length < MIN_SECRET_LENGTH
      ? [
          `secret #${index + 1} is shorter than ${MIN_SECRET_LENGTH} characters; generate one with ${GENERATE_SECRET}`,
        ]
      : [],
  );
}

/**
 * Sealing is on unless the operator opted out: no secret at all is a problem that says how to get one
 * and how to opt out. `optOut` is how the opt-out is written where the secrets are missing.
 */
export function sealingRequiredProblems(secrets: SealingSecrets, optOut: string): string[] {
  if (secrets === NO_SEALING || secrets.length > 0) return [];
  return [
    `is required: refresh tokens are sealed by default. Generate a secret with ${GENERATE_SECRET} and set it here; or, to hand refresh tokens to clients unsealed, opt out with ${optOut}`,
  ];
}

/** The secrets that seal: none when the operator opted out. */
export function sealingSecretsOf(secrets: SealingSecrets): readonly string[] {
  return secrets === NO_SEALING ? [] : secrets;
}

/** Migrated Ruby tokens are handed out sealed the new way, so the legacy secrets need current ones. */
export function legacySecretProblems(
  legacy: readonly string[],
  current: readonly string[],
  currentName: string,
): string[] {
  return legacy.length > 0 && current.length === 0
    ? [`needs ${currentName} too, since migrated tokens are handed out sealed the new way`]
    : [];
}

export function corsProblems(origins: readonly string[]): string[] {
  return origins.flatMap((origin) => {
    if (origin === '*') return ['"*" is not allowed: list the exact origins'];
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    return parsed?.origin === origin
      ? []
      : [`"${origin}" is not an origin (scheme://host[:port], no path or trailing slash)`];
  });
}
