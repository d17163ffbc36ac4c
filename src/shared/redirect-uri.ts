/**
 * Spotify's redirect URI rules (enforced for every app since November 2025), shared by the swap
 * service's allowlist and the sandbox's authorize endpoint so both judge a URI the same way.
 *
 * - HTTPS is required, except for loopback.
 * - Loopback must be the literal `http://127.0.0.1` or `http://[::1]`; `localhost` is refused.
 * - A loopback URI registered without a port accepts any port at request time (RFC 8252 §7.3).
 * - Custom schemes (`myapp://callback`) are allowed.
 * - Matching is otherwise exact: case, trailing slash and all.
 */

type RedirectUriProblem = 'invalid' | 'insecure' | 'localhost';

export interface RedirectUriVerdict {
  ok: boolean;
  problem?: RedirectUriProblem;
  /** A sentence for a person: what is wrong and what to do instead. */
  reason?: string;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]']);

function parse(uri: string): URL | undefined {
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

/** Checks a redirect URI against Spotify's registration rules. */
export function checkRedirectUri(uri: string): RedirectUriVerdict {
  const url = parse(uri);
  if (!url || uri.trim() !== uri || uri.length === 0) {
    return { ok: false, problem: 'invalid', reason: `"${uri}" is not an absolute URI` };
  }
  if (url.hash) {
    return { ok: false, problem: 'invalid', reason: `"${uri}" must not contain a fragment (#...)` };
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme === 'https') {
    if (url.hostname === 'localhost') {
      return localhost(uri);
    }
    return { ok: true };
  }
  if (scheme === 'http') {
    if (url.hostname === 'localhost') {
      return localhost(uri);
    }
    if (LOOPBACK_HOSTS.has(url.hostname)) {
      return { ok: true };
    }
    return {
      ok: false,
      problem: 'insecure',
      reason: `"${uri}" uses plain http; Spotify requires https except for http://127.0.0.1 and http://[::1]`,
    };
  }
  if (scheme === 'javascript' || scheme === 'data' || scheme === 'file') {
    return { ok: false, problem: 'invalid', reason: `"${uri}" uses the ${scheme}: scheme` };
  }
  // A custom scheme for a native app (myapp://callback).
  return { ok: true };
}

function localhost(uri: string): RedirectUriVerdict {
  return {
    ok: false,
    problem: 'localhost',
    reason: `"${uri}" uses localhost, which Spotify refuses; use http://127.0.0.1 or http://[::1] instead`,
  };
}

/** True for `http://127.0.0.1...` and `http://[::1]...`. */
export function isLoopbackRedirectUri(uri: string): boolean {
  const url = parse(uri);
  return url !== undefined && url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/** True when a registered loopback URI left the port out, so that any port matches. */
function hasExplicitPort(uri: string): boolean {
  // `new URL` drops a default port (":80"), so look at the authority as written.
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(uri)?.[1] ?? '';
  return /:\d*$/.test(authority.replace(/^\[[^\]]*\]/, ''));
}

/**
 * Whether `requested` matches the `registered` URI: exactly, or, for a loopback URI registered
 * without a port, with any port and otherwise the same scheme, host, path and query.
 */
export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) {
    return true;
  }
  if (!isLoopbackRedirectUri(registered) || hasExplicitPort(registered)) {
    return false;
  }
  if (!isLoopbackRedirectUri(requested) || requested.includes('#')) {
    return false;
  }
  const reg = parse(registered);
  const req = parse(requested);
  if (!reg || !req) {
    return false;
  }
  // Compare the URI as written minus the port, so that case and trailing slashes still count.
  return stripPort(requested) === registered && reg.hostname === req.hostname;
}

function stripPort(uri: string): string {
  return uri.replace(/^(http:\/\/(?:127\.0\.0\.1|\[::1\])):\d+(?=[/?]|$)/, '$1');
}

/** Finds the allowlist entry that `requested` matches, if any. */
export function findRedirectUri(allowlist: readonly string[], requested: string): string | undefined {
  return allowlist.find((registered) => redirectUriMatches(registered, requested));
}
