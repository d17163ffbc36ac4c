/**
 * Where configuration comes from, in rising precedence: a `.env` file, the process environment,
 * then command-line flags. Secrets have no flags on purpose: flags end up in shell history and
 * in `ps` output.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigError, type ConfigFile, type Env, parseAppsFileText } from '../server/config/index.js';

export class EnvFileError extends Error {
  override readonly name = 'EnvFileError';
}

/** Reads `path` (default `.env` in the working directory) when it exists; an explicit path must exist. */
function readEnvFile(path: string | undefined): Record<string, string> {
  const file = path ?? '.env';
  if (!existsSync(file)) {
    if (path !== undefined) {
      throw new EnvFileError(`--env-file: ${path} does not exist`);
    }
    return {};
  }
  const parsed = parseEnv(readFileSync(file, 'utf8'));
  return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => !!entry[1]));
}

/** Flags that mirror environment variables, as citty arg definitions. */
export const configFlags = {
  port: { type: 'string', description: 'Port to listen on (PORT)', valueHint: 'number' },
  host: {
    type: 'string',
    description: 'Address to listen on (HOST, default 127.0.0.1)',
    valueHint: 'address',
  },
  'client-id': { type: 'string', description: 'Spotify app Client ID (SPOTIFY_CLIENT_ID)', valueHint: 'id' },
  'redirect-uri': {
    type: 'string',
    description: 'Redirect URI allowlist, comma-separated (SPOTIFY_REDIRECT_URI)',
    valueHint: 'uri,...',
  },
  'accounts-url': {
    type: 'string',
    description: 'Spotify Accounts base URL (SPOTIFY_ACCOUNTS_URL)',
    valueHint: 'url',
  },
  'cors-origins': {
    type: 'string',
    description: 'Browser origins allowed to call the service (CORS_ORIGINS)',
    valueHint: 'origin,...',
  },
  'upstream-timeout': {
    type: 'string',
    description: 'Timeout of a call to Spotify in ms (UPSTREAM_TIMEOUT_MS)',
    valueHint: 'ms',
  },
  'log-level': { type: 'string', description: 'fatal|error|warn|info|debug|trace|silent (LOG_LEVEL)' },
  'env-file': { type: 'string', description: 'Read variables from this file (default: .env when present)' },
  config: {
    type: 'string',
    description:
      'Apps file for several Spotify apps (TOKEN_SWAP_CONFIG; default: token-swap.config.json when present)',
    valueHint: 'path',
  },
} as const;

const FLAG_TO_ENV: Record<string, string> = {
  port: 'PORT',
  host: 'HOST',
  'client-id': 'SPOTIFY_CLIENT_ID',
  'redirect-uri': 'SPOTIFY_REDIRECT_URI',
  'accounts-url': 'SPOTIFY_ACCOUNTS_URL',
  'cors-origins': 'CORS_ORIGINS',
  'upstream-timeout': 'UPSTREAM_TIMEOUT_MS',
  'log-level': 'LOG_LEVEL',
};

/** Merges `.env`, the environment and flags into one environment for `loadConfig`. */
export function resolveEnv(flags: Record<string, unknown>, processEnv: NodeJS.ProcessEnv = process.env): Env {
  const merged: Record<string, string | undefined> = {
    ...readEnvFile(typeof flags['env-file'] === 'string' ? flags['env-file'] : undefined),
    ...processEnv,
  };
  for (const [flag, variable] of Object.entries(FLAG_TO_ENV)) {
    const value = flags[flag];
    if (typeof value === 'string') {
      merged[variable] = value;
    }
  }
  return merged;
}

/** Flags of the sandbox's behaviour, shared by `sandbox` and `serve --sandbox`. */
export const sandboxFlags = {
  'auto-approve': {
    type: 'boolean',
    description:
      'Sandbox: approve authorize requests at once, without the consent page (SANDBOX_AUTO_APPROVE=1)',
  },
  rotate: {
    type: 'boolean',
    description: 'Sandbox: rotate refresh tokens on every refresh (SANDBOX_ROTATE_REFRESH_TOKENS=1)',
  },
} as const;

const truthy = (value: string | undefined) => value === '1' || value?.toLowerCase() === 'true';

/** The sandbox's behaviour from its flags, or else from the environment. */
export function sandboxBehaviour(
  flags: Record<string, unknown>,
  env: Env,
): { autoApprove: boolean; rotateRefreshTokens: boolean } {
  return {
    autoApprove: flags['auto-approve'] === true || truthy(env.SANDBOX_AUTO_APPROVE),
    rotateRefreshTokens: flags.rotate === true || truthy(env.SANDBOX_ROTATE_REFRESH_TOKENS),
  };
}

/** The default name of the multi-app configuration file, looked for in the working directory. */
const CONFIG_FILE_NAME = 'token-swap.config.json';

/**
 * Reads the apps file: `--config`, else TOKEN_SWAP_CONFIG, else token-swap.config.json when present.
 * An explicit path must exist; invalid JSON is a configuration error that names the file.
 */
export function readConfigFile(flag: unknown, env: Env): ConfigFile | undefined {
  const explicit = typeof flag === 'string' && flag !== '' ? flag : env.TOKEN_SWAP_CONFIG || undefined;
  const path = explicit ?? CONFIG_FILE_NAME;
  if (!existsSync(path)) {
    if (explicit !== undefined)
      throw new ConfigError([
        { source: path, variable: '', message: 'the configuration file does not exist' },
      ]);
    return undefined;
  }
  return parseAppsFileText(path, readFileSync(path, 'utf8'));
}
