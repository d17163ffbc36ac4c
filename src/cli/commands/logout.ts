import { defineCommand } from 'citty';
import { openStore, runAppSide, storeFlag, storePath } from '../app-side.js';

export default defineCommand({
  meta: { name: 'logout', description: 'Forget the stored tokens' },
  args: { ...storeFlag },
  run: ({ args }) =>
    runAppSide(async () => {
      const store = openStore(args.store);
      const had = (await store.load().catch(() => 'corrupt')) !== undefined;
      await store.clear();
      process.stdout.write(
        had
          ? `Logged out: removed ${storePath(args.store)}.\nTo revoke the app's access too, remove it at https://www.spotify.com/account/apps/\n`
          : 'Not logged in; nothing to remove.\n',
      );
    }),
});
