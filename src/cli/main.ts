import { defineCommand, runMain } from 'citty';
import { VERSION } from '../runtimes/node/index.js';

const main = defineCommand({
  meta: {
    name: 'token-swap',
    version: VERSION,
    description: 'Token swap service for Spotify apps, with a fake Spotify Accounts sandbox',
  },
  subCommands: {
    serve: () => import('./commands/serve.js').then((m) => m.default),
    sandbox: () => import('./commands/sandbox.js').then((m) => m.default),
    login: () => import('./commands/login.js').then((m) => m.default),
    token: () => import('./commands/token.js').then((m) => m.default),
    refresh: () => import('./commands/refresh.js').then((m) => m.default),
    status: () => import('./commands/status.js').then((m) => m.default),
    logout: () => import('./commands/logout.js').then((m) => m.default),
    doctor: () => import('./commands/doctor.js').then((m) => m.default),
  },
});

await runMain(main);
