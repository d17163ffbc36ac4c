/**
 * Configuration: environment variables (and an optional apps file) in, a validated, frozen
 * `ServiceConfig` out, or a ConfigError listing every problem at once. The pieces: model.ts (what a
 * configuration is), env.ts (the variables), apps-file.ts (the file), rules.ts (the checks both share).
 */
import { type ConfigFile, type FileApp, readAppsFile } from './apps-file.js';
import { type Env, type EnvValues, type EnvVariable, readEnv } from './env.js';
import { type AppConfig, DEFAULT_APP, type ServiceConfig } from './model.js';
import { ConfigError, type ConfigProblem, envProblem } from './problems.js';
import { legacySecretProblems } from './rules.js';
import { tracingConfig } from './tracing.js';

export type { ConfigFile } from './apps-file.js';
export type { Env } from './env.js';
export { ENV, readVariables } from './env.js';
export type { AppConfig, LogLevel, ServiceConfig, TracingConfig } from './model.js';
export {
  APP_NAME,
  DEFAULT_ACCOUNTS_URL,
  DEFAULT_APP,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  LOG_LEVELS,
} from './model.js';
export type { ConfigProblem } from './problems.js';
export { ConfigError, ENVIRONMENT, formatProblem } from './problems.js';
export { checkAccountsUrl, secretProblems, splitList } from './rules.js';

export interface LoadConfigOptions {
  /**
   * Defaults that apply when a variable is unset, e.g. the sandbox's fixed credentials. They are
   * validated like everything else.
   */
  defaults?: Partial<Record<EnvVariable, string>>;
  /** The apps file, when there is one. */
  file?: ConfigFile;
}

const REQUIRED: readonly [EnvVariable & keyof EnvValues, string][] = [
  [
    'SPOTIFY_CLIENT_ID',
    'is required (the Client ID shown on your app page in the Spotify developer dashboard)',
  ],
  [
    'SPOTIFY_CLIENT_SECRET',
    'is required (the Client secret shown on your app page in the Spotify developer dashboard)',
  ],
  [
    'SPOTIFY_REDIRECT_URI',
    'is required: the redirect URI(s) registered for your app in the Spotify dashboard',
  ],
];

/** The app the environment defines, or the problems that keep it from being one. */
function environmentApp(vars: EnvValues, problems: ConfigProblem[]): AppConfig | undefined {
  for (const [name, message] of REQUIRED) {
    if (vars[name] === undefined) problems.push(envProblem(name, message));
  }
  for (const message of legacySecretProblems(
    vars.LEGACY_ENCRYPTION_SECRET,
    vars.ENCRYPTION_SECRET,
    'ENCRYPTION_SECRET',
  )) {
    problems.push(envProblem('LEGACY_ENCRYPTION_SECRET', message));
  }
  const {
    SPOTIFY_CLIENT_ID: clientId,
    SPOTIFY_CLIENT_SECRET: clientSecret,
    SPOTIFY_REDIRECT_URI: uris,
  } = vars;
  if (!clientId || !clientSecret || !uris) return undefined;
  return {
    name: DEFAULT_APP,
    clientId,
    clientSecret,
    redirectUris: Object.freeze(uris),
    accountsUrl: vars.SPOTIFY_ACCOUNTS_URL,
    encryptionSecrets: Object.freeze(vars.ENCRYPTION_SECRET),
    legacyEncryptionSecrets: Object.freeze(vars.LEGACY_ENCRYPTION_SECRET),
    corsOrigins: Object.freeze(vars.CORS_ORIGINS),
    upstreamTimeoutMs: vars.UPSTREAM_TIMEOUT_MS,
  };
}

function withServiceDefaults(app: FileApp, vars: EnvValues): AppConfig {
  return {
    ...app,
    accountsUrl: app.accountsUrl ?? vars.SPOTIFY_ACCOUNTS_URL,
    upstreamTimeoutMs: app.upstreamTimeoutMs ?? vars.UPSTREAM_TIMEOUT_MS,
  };
}

/** Reads and validates the configuration; throws a ConfigError listing every problem at once. */
export function loadConfig(env: Env, options: LoadConfigOptions = {}): ServiceConfig {
  const read = readEnv(env, options.defaults);
  const problems: ConfigProblem[] = [...read.problems];
  const fromFile = options.file ? readAppsFile(options.file, env) : { apps: [], problems: [] };
  problems.push(...fromFile.problems);
  const vars = read.values;
  if (vars === undefined) throw new ConfigError(problems);

  // The environment defines the default app, unless a file declares the apps and the environment says
  // nothing about one.
  const envDefinesApp =
    vars.SPOTIFY_CLIENT_ID !== undefined ||
    vars.SPOTIFY_CLIENT_SECRET !== undefined ||
    vars.SPOTIFY_REDIRECT_URI !== undefined;
  const apps: AppConfig[] = [];
  const fromEnv = envDefinesApp || !options.file ? environmentApp(vars, problems) : undefined;
  if (fromEnv) apps.push(fromEnv);
  apps.push(...fromFile.apps.map((app) => withServiceDefaults(app, vars)));
  if (problems.length === 0 && apps.length === 0) {
    problems.push({
      source: options.file?.source ?? 'configuration',
      variable: '',
      message: 'declares no app; add one under "apps"',
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return Object.freeze({
    host: vars.HOST,
    port: vars.PORT,
    logLevel: vars.LOG_LEVEL,
    apps: Object.freeze(apps.map((app) => Object.freeze(app))),
    trustProxy: vars.TRUST_PROXY,
    redisUrl: vars.REDIS_URL,
    rateLimit: Object.freeze({
      swapPerMinute: vars.RATE_LIMIT_SWAP_PER_MINUTE,
      refreshPerMinute: vars.RATE_LIMIT_REFRESH_PER_MINUTE,
    }),
    resilience: Object.freeze({
      maxConcurrency: vars.UPSTREAM_MAX_CONCURRENCY,
      queueTimeoutMs: vars.UPSTREAM_QUEUE_TIMEOUT_MS,
      breakerThreshold: vars.BREAKER_FAILURE_THRESHOLD,
      breakerCooldownMs: vars.BREAKER_COOLDOWN_MS,
    }),
    metricsToken: vars.METRICS_TOKEN,
    tracing: tracingConfig(vars),
  });
}
