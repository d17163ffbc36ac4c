import { defineCommand } from 'citty';
import { createSession } from '../../client/index.js';
import { describeExpiry, openStore, storeFlag } from '../app-side.js';
import { ioOf } from '../io.js';

export default defineCommand({
  meta: { name: 'refresh', description: 'Refresh the access token now' },
  args: { ...storeFlag },
  async run(context) {
    const { stdout, env } = ioOf(context);
    const session = createSession({ store: openStore(context.args.store, env) });
    const tokens = await session.refresh();
    stdout.write(`Refreshed. Access token ${describeExpiry(tokens)}.\n`);
  },
});
