/**
 * Where configuration comes from, in rising precedence: a `.env` file, the process environment,
 * then command-line flags. Secrets have no flags on purpose: flags end up in shell history and
 * in `ps` output.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import {
  ConfigError,
  type ConfigFile,
  DEFAULT_ACCOUNTS_URL,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  type Env,
  LOG_LEVELS,
  parseAppsFileText,
} from '../server/config/index.js';

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

/**
 * Flags that mirror environment variables, as citty arg definitions. Each description ends with its
 * variable and default, `(PORT, default 3000)`; a placeholder names the kind of value, the same in
 * every command. No citty `default`: a flag's default would override the variable.
 */
export const configFlags = {
  port: {
    type: 'string',
    description: `Port to listen on (PORT, default ${DEFAULT_PORT}; 0: any free port)`,
    valueHint: 'port',
  },
  host: {
    type: 'string',
    description: `Address to listen on (HOST, default ${DEFAULT_HOST}; 0.0.0.0 in a container)`,
    valueHint: 'address',
  },
  'client-id': {
    type: 'string',
    description: 'Client ID of the Spotify app (SPOTIFY_CLIENT_ID)',
    valueHint: 'id',
  },
  'redirect-uri': {
    type: 'string',
    description: 'Redirect URI allowlist, comma-separated; the first is the default (SPOTIFY_REDIRECT_URI)',
    valueHint: 'uri,...',
  },
  'accounts-url': {
    type: 'string',
    description: `Spotify Accounts base URL (SPOTIFY_ACCOUNTS_URL, default ${DEFAULT_ACCOUNTS_URL})`,
    valueHint: 'url',
  },
  'cors-origins': {
    type: 'string',
    description: 'Browser origins allowed to call the service, comma-separated (CORS_ORIGINS, default none)',
    valueHint: 'origin,...',
  },
  'upstream-timeout': {
    type: 'string',
    description: `Timeout of one call to Spotify Accounts (UPSTREAM_TIMEOUT_MS, default ${DEFAULT_UPSTREAM_TIMEOUT_MS})`,
    valueHint: 'ms',
  },
  'log-level': {
    type: 'string',
    description: `${LOG_LEVELS.join(', ')} (LOG_LEVEL, default info)`,
    valueHint: 'level',
  },
  'env-file': {
    type: 'string',
    description: 'Read variables from this file (default .env, when present)',
    valueHint: 'path',
  },
  config: {
    type: 'string',
    description:
      'Apps file for several Spotify apps (TOKEN_SWAP_CONFIG, default token-swap.config.json, when present)',
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
