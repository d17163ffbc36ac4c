import { defineCommand } from 'citty';
import { createNodeLogger, exitGracefullyOnSignals, startNodeServer } from '../../runtimes/node/index.js';
import {
  createSandbox,
  SANDBOX_CLIENT_ID,
  SANDBOX_CLIENT_SECRET,
  SANDBOX_DEFAULT_REDIRECT_URIS,
} from '../../sandbox/index.js';
import { ConfigError, LOG_LEVELS, type LogLevel, splitList } from '../../server/config.js';
import { checkRedirectUri } from '../../shared/redirect-uri.js';
import { configFlags, resolveEnv, sandboxBehaviour, sandboxFlags } from '../env.js';
import { ioOf } from '../io.js';

export const DEFAULT_SANDBOX_PORT = 3001;

export default defineCommand({
  meta: { name: 'sandbox', description: 'Run the fake Spotify Accounts service on its own' },
  args: {
    port: { type: 'string', description: `Port to listen on (PORT, default ${DEFAULT_SANDBOX_PORT})` },
    host: configFlags.host,
    'env-file': configFlags['env-file'],
    ...sandboxFlags,
  },
  async run(context) {
    const { args } = context;
    const io = ioOf(context);
    const env = resolveEnv(args, io.env);
    const problems: string[] = [];
    const redirectUris = splitList(env.SPOTIFY_REDIRECT_URI ?? env.SPOTIFY_CLIENT_CALLBACK_URL);
    for (const uri of redirectUris) {
      const verdict = checkRedirectUri(uri);
      if (!verdict.ok) {
        problems.push(`SPOTIFY_REDIRECT_URI: ${verdict.reason}`);
      }
    }
    const port = Number(env.PORT ?? DEFAULT_SANDBOX_PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      problems.push('PORT: must be a whole number from 0 to 65535');
    }
    const level = (env.LOG_LEVEL ?? 'info').toLowerCase() as LogLevel;
    if (!LOG_LEVELS.includes(level)) {
      problems.push(`LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}`);
    }
    if (problems.length > 0) {
      throw new ConfigError(problems);
    }
    const client = {
      clientId: env.SPOTIFY_CLIENT_ID || SANDBOX_CLIENT_ID,
      clientSecret: env.SPOTIFY_CLIENT_SECRET || SANDBOX_CLIENT_SECRET,
      redirectUris: redirectUris.length > 0 ? redirectUris : [...SANDBOX_DEFAULT_REDIRECT_URIS],
    };
    const { autoApprove, rotateRefreshTokens: rotate } = sandboxBehaviour(args, env);
    const sandbox = createSandbox({ clients: [client], autoApprove, rotateRefreshTokens: rotate });
    const logger = createNodeLogger(level);
    const running = await startNodeServer({
      host: env.HOST || '127.0.0.1',
      port,
      handler: () => sandbox.app.fetch,
    });
    logger.info({ url: running.url, autoApprove, rotate }, 'sandbox listening');
    io.stderr.write(`
Fake Spotify Accounts (sandbox) is listening on ${running.url}
  GET  ${running.url}/authorize    consent page${autoApprove ? ' (auto-approve: redirects at once)' : ''}
  POST ${running.url}/api/token    token endpoint (authorization_code, refresh_token)
  GET  ${running.url}/v1/me        fake profile for a sandbox access token
  Client ID      ${client.clientId}
  Client secret  ${client.clientSecret === SANDBOX_CLIENT_SECRET ? client.clientSecret : '(from SPOTIFY_CLIENT_SECRET, not shown)'}
  Redirect URIs  ${client.redirectUris.join(', ')}
Point a swap service at it with SPOTIFY_ACCOUNTS_URL=${running.url}

`);
    // Resolves once stopped by a signal: the runner then exits 0.
    await exitGracefullyOnSignals(running, logger, undefined, io.signals);
  },
});
