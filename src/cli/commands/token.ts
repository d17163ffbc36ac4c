import { defineCommand } from 'citty';
import { createSession } from '../../client/index.js';
import { openStore, runAppSide, storeFlag } from '../app-side.js';

export default defineCommand({
  meta: {
    name: 'token',
    description: 'Print a valid access token and nothing else, refreshing it first if needed',
  },
  args: { ...storeFlag },
  run: ({ args }) =>
    runAppSide(async () => {
      const session = createSession({ store: openStore(args.store) });
      process.stdout.write(`${await session.getAccessToken()}\n`);
    }),
});
