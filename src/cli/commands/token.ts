import { defineCommand } from 'citty';
import { createSession } from '../../client/index.js';
import { openStore, storeFlag, withLoginHint } from '../app-side.js';
import { ioOf } from '../io.js';

export default defineCommand({
  meta: {
    name: 'token',
    description: 'Print a valid access token and nothing else, refreshing it first if needed',
  },
  args: { ...storeFlag },
  async run(context) {
    const { stdout, env, now } = ioOf(context);
    const store = openStore(context.args.store, env);
    const session = createSession({ store, now });
    stdout.write(`${await withLoginHint(store, context.args.store, env, () => session.getAccessToken())}\n`);
  },
});
