/** Checks that talk to Spotify Accounts: reachability, the clock, and whether the credentials work. */
import type { AppConfig } from '../../server/config/index.js';
import { tokenRequest, type UpstreamResponse } from '../../server/upstream/token-request.js';
import { abortKind } from '../../shared/abort.js';
import { parseTokenResponse, type TokenOutcome } from '../../shared/token-response.js';
import { type Finding, fail, ok, warn } from './findings.js';

/** Past this, TLS, token expiry and logs disagree with Spotify. */
const MAX_CLOCK_SKEW_SECONDS = 30;

/** This machine's clock against the answer's Date header, which has whole seconds. */
function clockFinding(response: UpstreamResponse, elapsedMs: number, now: number): Finding {
  const date = Date.parse(response.headers.get('date') ?? '');
  if (Number.isNaN(date)) {
    return warn('Clock', 'the Accounts service sent no Date header to compare with', 'Nothing to do');
  }
  // The answer took `elapsedMs` to arrive: compare with the middle of that.
  const skew = Math.round((now - elapsedMs / 2 - date) / 1000);
  return Math.abs(skew) > MAX_CLOCK_SKEW_SECONDS
    ? fail(
        'Clock',
        `this machine is ${Math.abs(skew)} s ${skew > 0 ? 'ahead of' : 'behind'} Spotify`,
        'Synchronize the clock (NTP: timedatectl set-ntp true, or chrony)',
      )
    : ok('Clock', `within ${MAX_CLOCK_SKEW_SECONDS} s of Spotify's (${skew >= 0 ? '+' : ''}${skew} s)`);
}

/** What the answer to a code that cannot exist says about the credentials, read as the service reads it. */
function credentialsFinding(outcome: TokenOutcome): Finding {
  if (outcome.kind === 'oauth_error' && outcome.error === 'invalid_grant') {
    return ok(
      'Credentials',
      'accepted by Spotify (the probe code was refused with invalid_grant, as it must be)',
    );
  }
  if (outcome.kind === 'oauth_error' && outcome.error === 'invalid_client') {
    const { description } = outcome;
    return fail(
      'Credentials',
      `refused by Spotify: invalid_client${description ? ` (${description})` : ''}`,
      description === 'Invalid client secret'
        ? 'SPOTIFY_CLIENT_SECRET is wrong: copy it again from the dashboard (View client secret), or rotate it there'
        : 'SPOTIFY_CLIENT_ID is wrong, or the app was deleted: copy the Client ID from developer.spotify.com/dashboard',
    );
  }
  if (outcome.kind === 'rate_limited') {
    return warn(
      'Credentials',
      'not checked: Spotify rate-limited the probe',
      'Run the doctor again in a minute',
    );
  }
  const error = outcome.kind === 'oauth_error' ? ` ${outcome.error}` : '';
  return warn(
    'Credentials',
    `unexpected answer to the probe: HTTP ${outcome.status}${error}`,
    'Check SPOTIFY_ACCOUNTS_URL; run the doctor again later if Spotify is having trouble',
  );
}

/**
 * One probe code exchange with a code that cannot exist: Spotify must answer `invalid_grant` (the
 * credentials were accepted, the code was not), never `invalid_client`.
 */
export async function probeAccounts(app: AppConfig, now: () => number = Date.now): Promise<Finding[]> {
  const subject = `Spotify Accounts at ${app.accountsUrl}`;
  const started = now();
  let response: UpstreamResponse;
  let text: string;
  try {
    // The very request the service makes (Basic auth, form body), with a code that cannot exist.
    response = await tokenRequest(
      app,
      {
        grant_type: 'authorization_code',
        code: 'token-swap-doctor-probe-not-a-real-code',
        redirect_uri: app.redirectUris[0] ?? '',
      },
      // The service's own timeout for this app: what it would wait, the doctor waits.
      { fetch, signal: AbortSignal.timeout(app.upstreamTimeoutMs) },
    );
    text = await response.text();
  } catch (error) {
    return [
      fail(
        subject,
        abortKind(error) === 'timeout'
          ? `no answer within ${app.upstreamTimeoutMs / 1000} s (UPSTREAM_TIMEOUT_MS)`
          : 'unreachable (connection failed)',
        'Check DNS, the firewall and any outbound proxy: the service must reach this host over HTTPS',
      ),
    ];
  }
  const elapsed = now() - started;
  return [
    ok(subject, `reachable (answered in ${elapsed} ms)`),
    clockFinding(response, elapsed, now()),
    credentialsFinding(parseTokenResponse(response, text)),
  ];
}
