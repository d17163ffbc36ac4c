import { defineCommand } from 'citty';
import { createSession, LoginRequiredError, type TokenSet } from '../../client/index.js';
import {
  describeUser,
  fetchProfile,
  openStore,
  storeFlag,
  storePath,
  warnIfLoginEnding,
  withLoginHint,
} from '../app-side.js';
import { describeExpiry, describeLoginEnd } from '../expiry.js';
import { ioOf } from '../io.js';

/** `stored; sign-in needed by 2026-07-01 (172 days left)`, when the service said when the login ends. */
function describeRefreshToken(tokens: TokenSet, now: number): string {
  if (!tokens.refreshToken) return 'none';
  const end = tokens.refreshTokenExpiresAt;
  return end === undefined ? 'stored' : `stored; ${describeLoginEnd(end, now)}`;
}

export default defineCommand({
  meta: {
    name: 'status',
    description: 'Show who is logged in, the scopes, the token expiry and when to sign in again',
  },
  args: { ...storeFlag },
  async run(context) {
    const { stdout, stderr, env, now } = ioOf(context);
    const store = openStore(context.args.store, env);
    const session = createSession({ store, now });
    const { login, tokens } = await withLoginHint(store, context.args.store, env, async () => {
      const login = await session.current();
      if (!login) throw new LoginRequiredError('not_logged_in');
      // Refreshes first when the access token expired, so the profile call can succeed.
      return { login, tokens: await session.getTokens() };
    });
    const profile = login.apiUrl ? await fetchProfile(login.apiUrl, tokens.accessToken, stderr) : undefined;
    warnIfLoginEnding(stderr, tokens, now(), { login, storeFlag: context.args.store, env });
    stdout.write(
      [
        `Logged in as ${describeUser(profile)}.`,
        `  Swap service:  ${login.swapUrl}`,
        `  Client ID:     ${login.clientId ?? '(unknown)'}`,
        `  Scopes:        ${tokens.scopes.join(' ') || '(none)'}`,
        `  Access token:  ${describeExpiry(tokens.expiresAt, now())}`,
        `  Refresh token: ${describeRefreshToken(tokens, now())}`,
        `  Store:         ${storePath(context.args.store, env)}`,
        '',
      ].join('\n'),
    );
  },
});
