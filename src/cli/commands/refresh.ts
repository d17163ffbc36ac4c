import { defineCommand } from 'citty';
import { createSession } from '../../client/index.js';
import { openStore, storeFlag, warnIfLoginEnding, withLoginHint } from '../app-side.js';
import { describeExpiry } from '../expiry.js';
import { ioOf } from '../io.js';

export default defineCommand({
  meta: { name: 'refresh', description: 'Refresh the access token now' },
  args: { ...storeFlag },
  async run(context) {
    const { stdout, stderr, env, now } = ioOf(context);
    const store = openStore(context.args.store, env);
    const session = createSession({ store, now });
    const tokens = await withLoginHint(store, context.args.store, env, async (login) => {
      const tokens = await session.refresh();
      warnIfLoginEnding(stderr, tokens, now(), { login, storeFlag: context.args.store, env });
      return tokens;
    });
    stdout.write(`Refreshed. Access token ${describeExpiry(tokens.expiresAt, now())}.\n`);
  },
});
