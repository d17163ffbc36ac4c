import { defineCommand } from 'citty';
import { createNodeLogger, startNodeServer, stopGracefullyOnSignals } from '../../runtimes/node/index.js';
import {
  createSandbox,
  SANDBOX_CLIENT_ID,
  SANDBOX_CLIENT_SECRET,
  SANDBOX_DEFAULT_REDIRECT_URIS,
} from '../../sandbox/index.js';
import { ConfigError, readVariables } from '../../server/config/index.js';
import { controlTokenLine } from '../banner.js';
import { configFlags, resolveEnv, sandboxBehaviour, sandboxFlags } from '../env.js';
import { ioOf } from '../io.js';

const DEFAULT_SANDBOX_PORT = 3001;

/**
 * The `serve` command that uses this sandbox, with the values it knows: the client secret only when it
 * is the sandbox's own (a real one stays in the variable it came from).
 */
function serviceCommand(
  url: string,
  client: { clientId: string; clientSecret: string; redirectUris: string[] },
) {
  const secret =
    client.clientSecret === SANDBOX_CLIENT_SECRET ? client.clientSecret : '"$SPOTIFY_CLIENT_SECRET"';
  return [
    `SPOTIFY_ACCOUNTS_URL=${url}`,
    `SPOTIFY_CLIENT_ID=${client.clientId}`,
    `SPOTIFY_CLIENT_SECRET=${secret}`,
    `SPOTIFY_REDIRECT_URI=${client.redirectUris.join(',')}`,
    'ENCRYPTION_SECRET=$(npx token-swap secret)',
    'npx token-swap serve --port 3000',
  ].join(' ');
}

export default defineCommand({
  meta: { name: 'sandbox', description: 'Run the fake Spotify Accounts service on its own' },
  args: {
    port: {
      ...configFlags.port,
      description: `Port to listen on (PORT, default ${DEFAULT_SANDBOX_PORT}; 0: any free port)`,
    },
    host: configFlags.host,
    'env-file': configFlags['env-file'],
    ...sandboxFlags,
  },
  async run(context) {
    const { args } = context;
    const io = ioOf(context);
    const env = resolveEnv(args, io.env);
    // The service's own rules for the variables the sandbox reads; only the default port differs.
    const read = readVariables(
      env,
      ['SPOTIFY_CLIENT_ID', 'SPOTIFY_CLIENT_SECRET', 'SPOTIFY_REDIRECT_URI', 'PORT', 'HOST', 'LOG_LEVEL'],
      { PORT: String(DEFAULT_SANDBOX_PORT) },
    );
    if (!read.values) throw new ConfigError(read.problems);
    const { PORT: port, HOST: host, LOG_LEVEL: level } = read.values;
    const client = {
      clientId: read.values.SPOTIFY_CLIENT_ID ?? SANDBOX_CLIENT_ID,
      clientSecret: read.values.SPOTIFY_CLIENT_SECRET ?? SANDBOX_CLIENT_SECRET,
      redirectUris: read.values.SPOTIFY_REDIRECT_URI ?? [...SANDBOX_DEFAULT_REDIRECT_URIS],
    };
    const { autoApprove, rotateRefreshTokens: rotate } = sandboxBehaviour(args, env);
    const sandbox = createSandbox({ clients: [client], autoApprove, rotateRefreshTokens: rotate });
    const logger = createNodeLogger(level);
    const running = await startNodeServer({ host, port, handler: () => sandbox.app.fetch });
    // Listening for signals before the banner says it is up (serve.ts says why).
    const stopped = stopGracefullyOnSignals(running, logger, undefined, io.signals);
    stopped.catch(() => {});
    logger.info({ url: running.url, autoApprove, rotate }, 'sandbox listening');
    io.stderr.write(`
Fake Spotify Accounts (sandbox) is listening on ${running.url}
  GET  ${running.url}/authorize    consent page${autoApprove ? ' (auto-approve: redirects at once)' : ''}
  POST ${running.url}/api/token    token endpoint (authorization_code, refresh_token)
  GET  ${running.url}/v1/me        fake profile for a sandbox access token
  Client ID      ${client.clientId}
  Client secret  ${client.clientSecret === SANDBOX_CLIENT_SECRET ? client.clientSecret : '(from SPOTIFY_CLIENT_SECRET, not shown)'}
  Redirect URIs  ${client.redirectUris.join(', ')}
${controlTokenLine('Control token  ', '/__sandbox', sandbox.controlToken)}
Point a swap service at it:
  ${serviceCommand(running.url, client)}

`);
    // Resolves once stopped by a signal: the runner then exits 0.
    await stopped;
  },
});
