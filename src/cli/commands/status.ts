import { defineCommand } from 'citty';
import { createSession, LoginRequiredError } from '../../client/index.js';
import {
  describeExpiry,
  describeUser,
  fetchProfile,
  openStore,
  runAppSide,
  storeFlag,
  storePath,
} from '../app-side.js';

export default defineCommand({
  meta: { name: 'status', description: 'Show who is logged in, the scopes and the token expiry' },
  args: { ...storeFlag },
  run: ({ args }) =>
    runAppSide(async () => {
      const session = createSession({ store: openStore(args.store) });
      const login = await session.current();
      if (!login) throw new LoginRequiredError('not_logged_in');
      // Refreshes first when the access token expired, so the profile call can succeed.
      const tokens = await session.getTokens();
      const profile = login.apiUrl ? await fetchProfile(login.apiUrl, tokens.accessToken) : undefined;
      process.stdout.write(
        [
          `Logged in as ${describeUser(profile)}.`,
          `  Swap service:  ${login.swapUrl}`,
          `  Client ID:     ${login.clientId ?? '(unknown)'}`,
          `  Scopes:        ${tokens.scopes.join(' ') || '(none)'}`,
          `  Access token:  ${describeExpiry(tokens)}`,
          `  Refresh token: ${tokens.refreshToken ? 'stored' : 'none'}`,
          `  Store:         ${storePath(args.store)}`,
          '',
        ].join('\n'),
      );
    }),
});
