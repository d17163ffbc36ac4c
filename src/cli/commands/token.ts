import { defineCommand } from 'citty';
import { createSession } from '../../client/index.js';
import { openStore, storeFlag } from '../app-side.js';
import { ioOf } from '../io.js';

export default defineCommand({
  meta: {
    name: 'token',
    description: 'Print a valid access token and nothing else, refreshing it first if needed',
  },
  args: { ...storeFlag },
  async run(context) {
    const { stdout, env } = ioOf(context);
    const session = createSession({ store: openStore(context.args.store, env) });
    stdout.write(`${await session.getAccessToken()}\n`);
  },
});
