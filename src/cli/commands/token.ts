import { defineCommand } from 'citty';
import { createSession } from '../../client/index.js';
import { openStore, storeFlag, warnIfLoginEnding, withLoginHint } from '../app-side.js';
import { ioOf } from '../io.js';

export default defineCommand({
  meta: {
    name: 'token',
    description: 'Print a valid access token and nothing else, refreshing it first if needed',
  },
  args: { ...storeFlag },
  async run(context) {
    const { stdout, stderr, env, now } = ioOf(context);
    const store = openStore(context.args.store, env);
    const session = createSession({ store, now });
    const tokens = await withLoginHint(store, context.args.store, env, async (login) => {
      const tokens = await session.getTokens();
      // On stderr only: scripts read the token from stdout, and nothing else is printed there.
      warnIfLoginEnding(stderr, tokens, now(), { login, storeFlag: context.args.store, env });
      return tokens;
    });
    stdout.write(`${tokens.accessToken}\n`);
  },
});
