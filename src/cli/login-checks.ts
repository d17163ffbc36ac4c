/**
 * What `login` checks around the browser step: that a swap service answers before the user is sent to
 * the consent page (a consent given for nothing is lost), that the code and tokens will not cross the
 * network in the clear, and what to change when Spotify refuses the code for its redirect URI.
 */
import { SwapServiceError } from '../client/index.js';
import { CliFailure, EXIT } from './fail.js';
import type { Writer } from './io.js';

/** This machine, where plain http never leaves it: 127.0.0.0/8, ::1 and localhost. */
const isLoopbackHost = (host: string) =>
  /^127(\.\d{1,3}){3}$/.test(host) || ['[::1]', 'localhost'].includes(host);

/** Long enough for a service on another continent, short enough not to keep a person waiting. */
const PROBE_TIMEOUT_MS = 5_000;

/** Why a fetch failed, in a few words: `ECONNREFUSED`, `ENOTFOUND`, `timeout`. */
function reasonOf(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${PROBE_TIMEOUT_MS / 1000} s`;
  }
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  // fetch refuses some ports itself ("bad port"), without a code.
  return typeof cause?.message === 'string' && cause.message ? cause.message : 'connection failed';
}

/**
 * `GET {swapUrl}/swap`: the swap service answers 405 (the endpoint takes POST) without spending a
 * rate-limit budget or calling Spotify. No answer, a 404 (nothing there) or a 5xx (a proxy in front
 * of a service that is down) stops the login before the browser opens.
 */
export async function checkSwapService(swapUrl: string, fetchImpl: typeof fetch = fetch): Promise<void> {
  const endpoint = `${swapUrl}/swap`;
  let status: number;
  try {
    const response = await fetchImpl(endpoint, {
      redirect: 'manual',
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await response.body?.cancel();
    status = response.status;
  } catch (error) {
    throw new CliFailure(
      `No swap service answers at ${swapUrl} (${reasonOf(error)}); the browser was not opened. Is the service running, and is --swap-url right? To try the flow without one: token-swap serve --sandbox`,
      EXIT.serviceUnavailable,
    );
  }
  if (status === 404 || status >= 500) {
    throw new CliFailure(
      `${endpoint} answered HTTP ${status}, not as a swap service does; the browser was not opened. --swap-url is the service's base URL (its /swap and /refresh are under it, or under /apps/NAME for an app of its apps file)`,
      EXIT.serviceUnavailable,
    );
  }
}

/** Plain http is for a service on this machine: elsewhere the code and the tokens travel in clear. */
export function warnIfInsecure(swapUrl: string, stderr: Writer): void {
  const url = new URL(swapUrl);
  if (url.protocol !== 'http:' || isLoopbackHost(url.hostname)) return;
  stderr.write(
    `Warning: --swap-url ${swapUrl} is plain http to a host that is not this machine: the authorization code and the tokens would cross the network unencrypted. Use https://${url.host}${url.pathname.replace(/\/$/, '')} instead.\n`,
  );
}

/**
 * Spotify's `Invalid redirect URI` at the token endpoint means the code was exchanged with another
 * redirect URI than the one the browser came back to (docs/spotify-accounts.md §2): the swap service
 * sent its default, as the login's URI is not on its allowlist. Says which URI was used, and what to add.
 */
export function redirectUriFailure(
  error: unknown,
  redirectUri: string,
  port: number,
): CliFailure | undefined {
  if (
    !(error instanceof SwapServiceError) ||
    error.error !== 'invalid_grant' ||
    !/redirect uri/i.test(error.errorDescription ?? '')
  ) {
    return undefined;
  }
  const portless = redirectUri.replace(/:\d+(?=\/)/, '');
  const register =
    port === 0
      ? `${portless} (no port: it matches any port)`
      : `${portless} (no port: it matches any port) or ${redirectUri}`;
  return new CliFailure(
    `Spotify refused the code (invalid_grant: ${error.errorDescription}): this login used the redirect URI ${redirectUri}, and the swap service exchanged the code with another one, because this one is not on its allowlist. Add ${register} to the service's SPOTIFY_REDIRECT_URI, and register the same URI for the app in the Spotify dashboard.`,
    EXIT.failure,
  );
}
