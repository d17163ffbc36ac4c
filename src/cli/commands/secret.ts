import { defineCommand } from 'citty';
import { ioOf } from '../io.js';
import { generateSecret } from '../sealing-secret.js';

export default defineCommand({
  meta: {
    name: 'secret',
    description:
      'Print a fresh sealing secret for ENCRYPTION_SECRET (48 random bytes, base64) and nothing else',
  },
  args: {},
  run(context) {
    // Alone on stdout, so that ENCRYPTION_SECRET=$(token-swap secret) takes exactly the secret.
    ioOf(context).stdout.write(`${generateSecret()}\n`);
  },
});
