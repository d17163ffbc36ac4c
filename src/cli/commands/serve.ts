import { defineCommand } from 'citty';
import {
  createNodeLogger,
  createNodeService,
  type NodeService,
  type RunningServer,
  startNodeServer,
  stopGracefullyOnSignals,
  VERSION,
} from '../../runtimes/node/index.js';
import type { Mount } from '../../server/app.js';
import {
  type AppConfig,
  ConfigError,
  type Env,
  loadConfig,
  NO_SEALING,
  type ServiceConfig,
  unsealedWarnings,
} from '../../server/config/index.js';
import { sandboxBanner, serviceBanner } from '../banner.js';
import { readDemoScript } from '../demo-script.js';
import { configFlags, readConfigFile, resolveEnv, sandboxBehaviour, sandboxFlags } from '../env.js';
import { CliFailure } from '../fail.js';
import { ioOf } from '../io.js';
import { generateSecret } from '../sealing-secret.js';

/**
 * The fake Accounts and the browser demo, loaded only by `serve --sandbox`: a production start
 * does not read, compile or run them (docs/benchmarks.md, "Start-up").
 */
async function loadEmbedded() {
  const [sandbox, demo] = await Promise.all([
    import('../../sandbox/index.js'),
    import('../../demo/index.js'),
  ]);
  return { ...sandbox, ...demo };
}
type Embedded = Awaited<ReturnType<typeof loadEmbedded>>;

/**
 * The Web API proxy's allowlist in sandbox mode when API_PROXY_PATHS says nothing: the demo's proxy
 * tab and a newcomer's first calls work out of the box. Read-only paths of the sandbox's own Web API;
 * outside sandbox mode there is no default, and no proxy unless an app lists one (docs/sessions.md).
 */
const SANDBOX_API_PROXY_PATHS = 'GET /v1/me, GET /v1/me/player, GET /v1/me/top/tracks';

/**
 * What `--sandbox` fills in where the environment says nothing: the sandbox's own app, and a sealing
 * secret for this process only. The sandbox forgets its tokens when it stops, so a secret that dies
 * with it costs nothing, and sealing stays on as it is in production.
 */
function sandboxDefaults(embedded: Embedded): Record<string, string> {
  return {
    SPOTIFY_CLIENT_ID: embedded.SANDBOX_CLIENT_ID,
    SPOTIFY_CLIENT_SECRET: embedded.SANDBOX_CLIENT_SECRET,
    SPOTIFY_REDIRECT_URI: embedded.SANDBOX_DEFAULT_REDIRECT_URIS.join(','),
    ENCRYPTION_SECRET: generateSecret(),
    API_PROXY_PATHS: SANDBOX_API_PROXY_PATHS,
  };
}

/** The banner's word on sealing in sandbox mode. */
function sandboxSealing(env: Env): string {
  if (env.ENCRYPTION_SECRET?.trim() === NO_SEALING) return `off (ENCRYPTION_SECRET=${NO_SEALING})`;
  if (env.ENCRYPTION_SECRET?.trim()) return 'on (ENCRYPTION_SECRET)';
  return 'on (a secret for this run: refresh tokens of an earlier run are refused)';
}

const APP_VARIABLES = [
  'SPOTIFY_CLIENT_ID',
  'SPOTIFY_CLIENT_SECRET',
  'SPOTIFY_REDIRECT_URI',
  'SPOTIFY_CLIENT_CALLBACK_URL',
];

/**
 * The configuration of `serve`. When nothing at all describes an app, the newcomer most likely wants
 * to try the service first: the failure says how.
 */
function serviceConfig(args: Record<string, unknown>, env: Env): ServiceConfig {
  const file = readConfigFile(args.config, env);
  try {
    return loadConfig(env, { file });
  } catch (error) {
    const unconfigured = !file && APP_VARIABLES.every((name) => !env[name]?.trim());
    if (!(error instanceof ConfigError) || !unconfigured) throw error;
    throw new CliFailure(
      `${error.message}\nNo Spotify app is configured. To try the service without one, with a fake Spotify Accounts:\n  token-swap serve --sandbox`,
    );
  }
}

/**
 * `serve --sandbox`: the fake Accounts under /sandbox and the browser demo under /demo, both on the
 * service's own socket (known only once it listens), and the app pointed at that Accounts.
 */
function embeddedSandbox(
  { createSandbox, createDemoApp, DEMO_PATH }: Embedded,
  url: string,
  app: AppConfig,
  behaviour: ReturnType<typeof sandboxBehaviour>,
  demoScript: string,
): { app: AppConfig; mounts: Mount[]; controlToken: string } {
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
    // The page shows its proxy tab only where this service proxies the Web API for the app.
    apiProxy: (app.apiProxyPaths ?? []).length > 0,
  });
  return {
    // The service reaches its embedded Accounts (and its Web API, for the proxy) over its own socket.
    app: { ...app, accountsUrl, apiUrl: accountsUrl, redirectUris },
    controlToken: sandbox.controlToken,
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
    const modules = sandboxMode ? await loadEmbedded() : undefined;
    const config = modules
      ? loadConfig(env, { defaults: sandboxDefaults(modules) })
      : serviceConfig(args, env);
    const logger = createNodeLogger(config.logLevel);
    const [app] = config.apps as [AppConfig];
    // Read before listening: a missing bundle is a clear failure now, not an error inside a callback.
    const demoScript = sandboxMode ? readDemoScript() : undefined;

    let service: NodeService | undefined;
    let served = app;
    let controlToken = '';
    let running: RunningServer | undefined;
    running = await startNodeServer({
      host: config.host,
      port: config.port,
      graceMs: config.shutdownGraceMs,
      onProtocolAnswer: (answer) => service?.protocolAnswer(answer),
      handler: ({ url }) => {
        const embedded =
          demoScript === undefined || modules === undefined
            ? undefined
            : embeddedSandbox(modules, url, app, sandboxBehaviour(args, env), demoScript);
        if (embedded) {
          served = embedded.app;
          controlToken = embedded.controlToken;
        }
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
    // Listening for signals before anything says the service is up: a process manager (or a test)
    // that stops it as soon as it reads the banner gets a graceful stop, never the default death.
    // The runner awaits it below; the catch only keeps a shutdown that fails before then handled.
    const stopped = stopGracefullyOnSignals(running, logger, () => service?.close(), io.signals);
    stopped.catch(() => {});
    if (service?.shared && !(await service.shared.ready(2_000))) {
      logger.warn({}, 'Redis is not reachable yet: serving with per-process limits until it is');
    }
    for (const warning of unsealedWarnings(config)) logger.warn({}, warning);
    if (sandboxMode && !env.API_PROXY_PATHS?.trim()) {
      logger.info(
        { allow: SANDBOX_API_PROXY_PATHS },
        'sandbox mode: the Web API proxy allows these by default (API_PROXY_PATHS replaces them; outside --sandbox there is no proxy unless API_PROXY_PATHS lists one)',
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
            // The app as served: its redirect URIs include the demo's callback.
            app: served,
            printSecret: app.clientSecret === modules?.SANDBOX_CLIENT_SECRET,
            sealing: sandboxSealing(env),
            controlToken,
          })
        : serviceBanner({ serviceUrl: running.url, apps: config.apps }),
    );
    // Resolves once stopped by a signal: the runner then exits 0.
    await stopped;
  },
});
