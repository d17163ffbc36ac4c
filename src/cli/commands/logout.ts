import { defineCommand } from 'citty';
import { openStore, storeFlag, storePath } from '../app-side.js';
import { ioOf } from '../io.js';

export default defineCommand({
  meta: { name: 'logout', description: 'Forget the stored tokens' },
  args: { ...storeFlag },
  async run(context) {
    const { stdout, env } = ioOf(context);
    const store = openStore(context.args.store, env);
    const had = (await store.load().catch(() => 'corrupt')) !== undefined;
    await store.clear();
    stdout.write(
      had
        ? `Logged out: removed ${storePath(context.args.store, env)}.\nTo revoke the app's access too, remove it at https://www.spotify.com/account/apps/\n`
        : 'Not logged in; nothing to remove.\n',
    );
  },
});
