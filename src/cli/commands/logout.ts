/**
 * `token-swap logout`: revokes the login at the swap service, then forgets it here, whatever the
 * revocation came to (the kit's session.logout). Exit 0 once the login is forgotten: stderr says
 * whether the service revoked it (README, "Log in from the command line").
 */
import { defineCommand } from 'citty';
import { createSession, type LogoutResult, SwapServiceError } from '../../client/index.js';
import { openStore, storeFlag, storePath } from '../app-side.js';
import { ioOf } from '../io.js';

const SPOTIFY_APPS = 'https://www.spotify.com/account/apps/';
const STILL_WORK = 'its tokens are forgotten here, but still work until they expire';

/** What happened at the swap service, for stderr. The service's own words only as the kit let them through. */
function revocationNotice(result: LogoutResult, swapUrl: string | undefined): string {
  const at = `the swap service at ${swapUrl ?? '(unknown)'}`;
  switch (result.outcome) {
    case 'revoked':
      return `Revoked the login at ${at}: none of its refresh tokens works any more.`;
    case 'unsupported':
      return `Warning: ${at} keeps no revocations (revocation_unavailable), so the login was not revoked: ${STILL_WORK}.`;
    case 'unreachable':
      return `Warning: could not reach ${at} (${result.error.code}), so the login was not revoked: ${STILL_WORK}. To end them now, remove the app at ${SPOTIFY_APPS}`;
    case 'failed': {
      const { error } = result;
      if (!(error instanceof SwapServiceError)) {
        return `Warning: the stored login could not be read, so it was not revoked; it was removed all the same.`;
      }
      const said = error.errorDescription ? `${error.error}: ${error.errorDescription}` : error.error;
      return `Warning: ${at} did not revoke the login (${said}): ${STILL_WORK}. To end them now, remove the app at ${SPOTIFY_APPS}`;
    }
    case 'no_refresh_token':
      return 'The stored login had no refresh token: nothing to revoke.';
    case 'not_logged_in':
      return '';
  }
}

export default defineCommand({
  meta: {
    name: 'logout',
    description: 'Revoke the login at the swap service, then forget the stored tokens',
  },
  args: { ...storeFlag },
  async run(context) {
    const { stdout, stderr, env } = ioOf(context);
    const store = openStore(context.args.store, env);
    const swapUrl = (await store.load().catch(() => undefined))?.swapUrl;
    const result = await createSession({ store }).logout();
    if (result.outcome === 'not_logged_in') {
      stdout.write('Not logged in; nothing to remove.\n');
      return;
    }
    stderr.write(`${revocationNotice(result, swapUrl)}\n`);
    stdout.write(
      `Logged out: removed ${storePath(context.args.store, env)}.\nTo revoke the app's access too, remove it at ${SPOTIFY_APPS}\n`,
    );
  },
});
