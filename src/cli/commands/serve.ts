import { defineCommand } from 'citty';
import { createDemoApp, DEMO_PATH } from '../../demo/index.js';
import {
  createNodeLogger,
  createNodeService,
  type NodeService,
  type RunningServer,
  startNodeServer,
  stopGracefullyOnSignals,
  VERSION,
} from '../../runtimes/node/index.js';
import {
  createSandbox,
  SANDBOX_CLIENT_ID,
  SANDBOX_CLIENT_SECRET,
  SANDBOX_DEFAULT_REDIRECT_URIS,
} from '../../sandbox/index.js';
import type { Mount } from '../../server/app.js';
import { type AppConfig, DEFAULT_APP, loadConfig, type ServiceConfig } from '../../server/config/index.js';
import { sandboxBanner, serviceBanner } from '../banner.js';
import { readDemoScript } from '../demo-script.js';
import { configFlags, readConfigFile, resolveEnv, sandboxBehaviour, sandboxFlags } from '../env.js';
import { ioOf } from '../io.js';

/** What `--sandbox` fills in: the sandbox's own app. */
const SANDBOX_DEFAULTS = {
  SPOTIFY_CLIENT_ID: SANDBOX_CLIENT_ID,
  SPOTIFY_CLIENT_SECRET: SANDBOX_CLIENT_SECRET,
  SPOTIFY_REDIRECT_URI: SANDBOX_DEFAULT_REDIRECT_URIS.join(','),
};

/**
 * `serve --sandbox`: the fake Accounts under /sandbox and the browser demo under /demo, both on the
 * service's own socket (known only once it listens), and the app pointed at that Accounts.
 */
function embeddedSandbox(
  url: string,
  app: AppConfig,
  behaviour: ReturnType<typeof sandboxBehaviour>,
  demoScript: string,
): { app: AppConfig; mounts: Mount[] } {
  const accountsUrl = `${url}/sandbox`;
  // The browser demo comes back to the service's own origin: register that redirect too.
  const demoRedirectUri = `${url}${DEMO_PATH}/callback`;
  const redirectUris = [...app.redirectUris, demoRedirectUri];
  const sandbox = createSandbox({
    clients: [{ clientId: app.clientId, clientSecret: app.clientSecret, redirectUris }],
    ...behaviour,
  });
  const demo = createDemoApp({
    serviceUrl: url,
    accountsUrl,
    clientId: app.clientId,
    redirectUri: demoRedirectUri,
    script: demoScript,
  });
  return {
    // The service reaches its embedded Accounts over its own socket, like the real one.
    app: { ...app, accountsUrl, redirectUris },
    mounts: [
      {
        path: '/sandbox',
        app: sandbox.app,
        description: 'Sandbox: a fake Spotify Accounts (GET /sandbox/authorize, POST /sandbox/api/token)',
      },
      {
        path: DEMO_PATH,
        app: demo,
        description: 'Browser demo: Authorization Code + PKCE through this service (open it in a browser)',
      },
    ],
  };
}

export default defineCommand({
  meta: { name: 'serve', description: 'Run the token swap service' },
  args: {
    ...configFlags,
    sandbox: {
      type: 'boolean',
      description:
        'Embed a fake Spotify Accounts under /sandbox and use it as upstream (no Spotify app needed)',
    },
    ...sandboxFlags,
  },
  async run(context) {
    const { args } = context;
    const io = ioOf(context);
    const env = resolveEnv(args, io.env);
    const sandboxMode = args.sandbox === true;
    const config = loadConfig(
      env,
      sandboxMode ? { defaults: SANDBOX_DEFAULTS } : { file: readConfigFile(args.config, env) },
    );
    const logger = createNodeLogger(config.logLevel);
    const [app] = config.apps as [AppConfig];
    // Read before listening: a missing bundle is a clear failure now, not an error inside a callback.
    const demoScript = sandboxMode ? readDemoScript() : undefined;

    let service: NodeService | undefined;
    let running: RunningServer | undefined;
    running = await startNodeServer({
      host: config.host,
      port: config.port,
      graceMs: config.shutdownGraceMs,
      onProtocolAnswer: (answer) => service?.protocolAnswer(answer),
      handler: ({ url }) => {
        const embedded =
          demoScript === undefined
            ? undefined
            : embeddedSandbox(url, app, sandboxBehaviour(args, env), demoScript);
        const effective: ServiceConfig = embedded ? { ...config, apps: [embedded.app] } : config;
        service = createNodeService(effective, {
          logger,
          version: VERSION,
          mounts: embedded?.mounts ?? [],
          draining: () => running?.draining ?? false,
        });
        return service.app.fetch;
      },
    });
    if (service?.shared && !(await service.shared.ready(2_000))) {
      logger.warn({}, 'Redis is not reachable yet: serving with per-process limits until it is');
    }
    for (const unsealed of config.apps.filter((a) => a.encryptionSecrets.length === 0)) {
      logger.warn(
        { app: unsealed.name },
        unsealed.name === DEFAULT_APP
          ? 'ENCRYPTION_SECRET is not set: refresh tokens are handed to clients unsealed. Set it in production.'
          : `app ${unsealed.name} has no encryptionSecrets: its refresh tokens are handed to clients unsealed`,
      );
    }
    if (sandboxMode && env.SPOTIFY_ACCOUNTS_URL) {
      logger.warn({}, 'SPOTIFY_ACCOUNTS_URL is ignored with --sandbox');
    }
    logger.info({ url: running.url, sandbox: sandboxMode, version: VERSION }, 'listening');
    io.stderr.write(
      sandboxMode
        ? sandboxBanner({
            serviceUrl: running.url,
            accountsUrl: `${running.url}/sandbox`,
            app,
            printSecret: app.clientSecret === SANDBOX_CLIENT_SECRET,
          })
        : serviceBanner({ serviceUrl: running.url, apps: config.apps }),
    );
    // Resolves once stopped by a signal: the runner then exits 0.
    await stopGracefullyOnSignals(running, logger, () => service?.close(), io.signals);
  },
});
