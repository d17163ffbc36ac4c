/** Checks that talk to Spotify Accounts: reachability, the clock, and whether the credentials work. */
import type { AppConfig } from '../../server/config/index.js';
import { tokenRequest, type UpstreamResponse } from '../../server/upstream/token-request.js';
import { type Finding, fail, ok, warn } from './findings.js';

const TIMEOUT_MS = 10_000;
/** Past this, TLS, token expiry and logs disagree with Spotify. */
const MAX_CLOCK_SKEW_SECONDS = 30;

/**
 * One probe code exchange with a code that cannot exist: Spotify must answer `invalid_grant` (the
 * credentials were accepted, the code was not), never `invalid_client`.
 */
export async function probeAccounts(app: AppConfig, now: () => number = Date.now): Promise<Finding[]> {
  const subject = `Spotify Accounts at ${app.accountsUrl}`;
  const started = now();
  let response: UpstreamResponse;
  try {
    // The very request the service makes (Basic auth, form body), with a code that cannot exist.
    response = await tokenRequest(
      app,
      {
        grant_type: 'authorization_code',
        code: 'token-swap-doctor-probe-not-a-real-code',
        redirect_uri: app.redirectUris[0] ?? '',
      },
      { fetch, signal: AbortSignal.timeout(TIMEOUT_MS) },
    );
  } catch (error) {
    const timedOut = (error as { name?: string }).name === 'TimeoutError';
    return [
      fail(
        subject,
        timedOut ? `no answer within ${TIMEOUT_MS / 1000} s` : 'unreachable (connection failed)',
        'Check DNS, the firewall and any outbound proxy: the service must reach this host over HTTPS',
      ),
    ];
  }
  const elapsed = now() - started;
  const findings: Finding[] = [ok(subject, `reachable (answered in ${elapsed} ms)`)];

  const date = Date.parse(response.headers.get('date') ?? '');
  if (Number.isNaN(date)) {
    findings.push(warn('Clock', 'the Accounts service sent no Date header to compare with', 'Nothing to do'));
  } else {
    // The Date header has whole seconds, and the answer took `elapsed` to arrive.
    const skew = Math.round((now() - elapsed / 2 - date) / 1000);
    findings.push(
      Math.abs(skew) > MAX_CLOCK_SKEW_SECONDS
        ? fail(
            'Clock',
            `this machine is ${Math.abs(skew)} s ${skew > 0 ? 'ahead of' : 'behind'} Spotify`,
            'Synchronize the clock (NTP: timedatectl set-ntp true, or chrony)',
          )
        : ok('Clock', `within ${MAX_CLOCK_SKEW_SECONDS} s of Spotify's (${skew >= 0 ? '+' : ''}${skew} s)`),
    );
  }

  let body: { error?: unknown; error_description?: unknown } = {};
  try {
    body = JSON.parse(await response.text()) as typeof body;
  } catch {
    // Judged below by status.
  }
  const description = typeof body.error_description === 'string' ? body.error_description : '';
  if (body.error === 'invalid_grant') {
    findings.push(
      ok('Credentials', 'accepted by Spotify (the probe code was refused with invalid_grant, as it must be)'),
    );
  } else if (body.error === 'invalid_client') {
    findings.push(
      fail(
        'Credentials',
        `refused by Spotify: invalid_client${description ? ` (${description})` : ''}`,
        description === 'Invalid client secret'
          ? 'SPOTIFY_CLIENT_SECRET is wrong: copy it again from the dashboard (View client secret), or rotate it there'
          : 'SPOTIFY_CLIENT_ID is wrong, or the app was deleted: copy the Client ID from developer.spotify.com/dashboard',
      ),
    );
  } else if (response.status === 429) {
    findings.push(
      warn('Credentials', 'not checked: Spotify rate-limited the probe', 'Run the doctor again in a minute'),
    );
  } else {
    findings.push(
      warn(
        'Credentials',
        `unexpected answer to the probe: HTTP ${response.status}${typeof body.error === 'string' ? ` ${body.error}` : ''}`,
        'Check SPOTIFY_ACCOUNTS_URL; run the doctor again later if Spotify is having trouble',
      ),
    );
  }
  return findings;
}
