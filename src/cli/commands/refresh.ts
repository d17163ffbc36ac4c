import { defineCommand } from 'citty';
import { createSession } from '../../client/index.js';
import { describeExpiry, openStore, runAppSide, storeFlag } from '../app-side.js';

export default defineCommand({
  meta: { name: 'refresh', description: 'Refresh the access token now' },
  args: { ...storeFlag },
  run: ({ args }) =>
    runAppSide(async () => {
      const session = createSession({ store: openStore(args.store) });
      const tokens = await session.refresh();
      process.stdout.write(`Refreshed. Access token ${describeExpiry(tokens)}.\n`);
    }),
});
