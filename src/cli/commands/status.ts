import { defineCommand } from 'citty';
import { createSession, LoginRequiredError } from '../../client/index.js';
import { describeUser, fetchProfile, openStore, storeFlag, storePath, withLoginHint } from '../app-side.js';
import { describeExpiry } from '../expiry.js';
import { ioOf } from '../io.js';

export default defineCommand({
  meta: { name: 'status', description: 'Show who is logged in, the scopes and the token expiry' },
  args: { ...storeFlag },
  async run(context) {
    const { stdout, env, now } = ioOf(context);
    const store = openStore(context.args.store, env);
    const session = createSession({ store, now });
    const { login, tokens } = await withLoginHint(store, context.args.store, env, async () => {
      const login = await session.current();
      if (!login) throw new LoginRequiredError('not_logged_in');
      // Refreshes first when the access token expired, so the profile call can succeed.
      return { login, tokens: await session.getTokens() };
    });
    const profile = login.apiUrl ? await fetchProfile(login.apiUrl, tokens.accessToken) : undefined;
    stdout.write(
      [
        `Logged in as ${describeUser(profile)}.`,
        `  Swap service:  ${login.swapUrl}`,
        `  Client ID:     ${login.clientId ?? '(unknown)'}`,
        `  Scopes:        ${tokens.scopes.join(' ') || '(none)'}`,
        `  Access token:  ${describeExpiry(tokens.expiresAt, now())}`,
        `  Refresh token: ${tokens.refreshToken ? 'stored' : 'none'}`,
        `  Store:         ${storePath(context.args.store, env)}`,
        '',
      ].join('\n'),
    );
  },
});
