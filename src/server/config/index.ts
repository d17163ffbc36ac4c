/**
 * Configuration: environment variables (and an optional apps file) in, a validated, frozen
 * `ServiceConfig` out, or a ConfigError listing every problem at once. The pieces: model.ts (what a
 * configuration is), env.ts (the variables), apps-file.ts (the file), rules.ts (the checks both share).
 */
import { type ConfigFile, type FileApp, readAppsFile } from './apps-file.js';
import { defaultShutdownGraceMs } from './budgets.js';
import { type Env, type EnvValues, type EnvVariable, readEnv } from './env.js';
import { type AppConfig, DEFAULT_APP, type ServiceConfig } from './model.js';
import { ConfigError, type ConfigProblem, envProblem } from './problems.js';
import { type RefreshTokenPolicy, refreshTokenPolicyProblems } from './refresh-tokens.js';
import { legacySecretProblems, NO_SEALING, sealingRequiredProblems, sealingSecretsOf } from './rules.js';
import { tracingConfig } from './tracing.js';

export type { ApiProxyRule, ProxyMethod } from './api-proxy.js';
export { DEFAULT_API_URL, matchProxyRule, PROXY_METHODS } from './api-proxy.js';
export type { ConfigFile } from './apps-file.js';
export { parseAppsFileText } from './apps-file.js';
export { longestRequestMs, refreshBudgetMs } from './budgets.js';
export type { Env } from './env.js';
export { ENV, readVariables } from './env.js';
export type {
  AppConfig,
  DpopMode,
  LogLevel,
  RefreshTokenPolicy,
  ServiceConfig,
  TracingConfig,
} from './model.js';
export {
  APP_NAME,
  DEFAULT_ACCOUNTS_URL,
  DEFAULT_APP,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  DPOP_MODES,
  LOG_LEVELS,
} from './model.js';
export type { ConfigProblem } from './problems.js';
export { ConfigError, ENVIRONMENT, formatProblem } from './problems.js';
export { DEFAULT_REFRESH_TOKEN_POLICY, describeSeconds, MAX_LOGIN_SECONDS } from './refresh-tokens.js';
export type { SealingSecrets } from './rules.js';
export {
  checkAccountsUrl,
  GENERATE_SECRET,
  NO_SEALING,
  parseSealingSecrets,
  secretProblems,
  splitList,
} from './rules.js';

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

/** The REFRESH_TOKEN_* variables: the environment's app's policy, and every file app's defaults. */
function envRefreshTokenPolicy(vars: EnvValues): RefreshTokenPolicy {
  return Object.freeze({
    maxAgeSeconds: vars.REFRESH_TOKEN_MAX_AGE,
    idleTimeoutSeconds: vars.REFRESH_TOKEN_IDLE_TIMEOUT,
    rotation: vars.REFRESH_TOKEN_ROTATION,
    reuseGraceSeconds: vars.REFRESH_TOKEN_REUSE_GRACE,
  });
}

const POLICY_VARIABLES = {
  maxAge: ['REFRESH_TOKEN_MAX_AGE', 'refreshTokenMaxAge'],
  idleTimeout: ['REFRESH_TOKEN_IDLE_TIMEOUT', 'refreshTokenIdleTimeout'],
  rotation: ['REFRESH_TOKEN_ROTATION', 'refreshTokenRotation'],
} as const;

/** What is wrong with each app's refresh-token policy as a whole, under the variable or field that set it. */
function policyProblems(apps: readonly AppConfig[], file: ConfigFile | undefined): ConfigProblem[] {
  return apps.flatMap((app) =>
    refreshTokenPolicyProblems(app.refreshTokens, app.encryptionSecrets.length > 0).map(
      ({ field, message }) => {
        const [variable, fileField] = POLICY_VARIABLES[field];
        return app.name === DEFAULT_APP || file === undefined
          ? envProblem(variable, message)
          : {
              source: file.source,
              variable: `apps.${app.name}.${fileField}`,
              message: `${message} (set by ${fileField}, or by ${variable} for every app)`,
            };
      },
    ),
  );
}

/** A DPoP binding lives in the sealed token: an app that hands out Spotify's own tokens cannot bind them. */
function dpopProblems(apps: readonly AppConfig[], file: ConfigFile | undefined): ConfigProblem[] {
  const message = `needs sealed refresh tokens (a DPoP key binding is sealed into them), so not ENCRYPTION_SECRET=${NO_SEALING}`;
  return apps
    .filter((app) => app.dpop === 'required' && app.encryptionSecrets.length === 0)
    .map((app) =>
      app.name === DEFAULT_APP || file === undefined
        ? envProblem('DPOP', message)
        : { source: file.source, variable: `apps.${app.name}.dpop`, message },
    );
}

/** The app the environment defines, or the problems that keep it from being one. */
function environmentApp(vars: EnvValues, problems: ConfigProblem[]): AppConfig | undefined {
  for (const [name, message] of REQUIRED) {
    if (vars[name] === undefined) problems.push(envProblem(name, message));
  }
  const encryptionSecrets = sealingSecretsOf(vars.ENCRYPTION_SECRET);
  for (const message of sealingRequiredProblems(vars.ENCRYPTION_SECRET, `ENCRYPTION_SECRET=${NO_SEALING}`)) {
    problems.push(envProblem('ENCRYPTION_SECRET', message));
  }
  for (const message of legacySecretProblems(
    vars.LEGACY_ENCRYPTION_SECRET,
    encryptionSecrets,
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
    encryptionSecrets: Object.freeze([...encryptionSecrets]),
    legacyEncryptionSecrets: Object.freeze(vars.LEGACY_ENCRYPTION_SECRET),
    corsOrigins: Object.freeze(vars.CORS_ORIGINS),
    upstreamTimeoutMs: vars.UPSTREAM_TIMEOUT_MS,
    refreshTokens: envRefreshTokenPolicy(vars),
    dpop: vars.DPOP,
    apiProxyPaths: vars.API_PROXY_PATHS,
    apiUrl: vars.SPOTIFY_API_URL,
  };
}

function withServiceDefaults(app: FileApp, vars: EnvValues): AppConfig {
  return {
    ...app,
    accountsUrl: app.accountsUrl ?? vars.SPOTIFY_ACCOUNTS_URL,
    upstreamTimeoutMs: app.upstreamTimeoutMs ?? vars.UPSTREAM_TIMEOUT_MS,
    dpop: app.dpop ?? vars.DPOP,
    apiUrl: app.apiUrl ?? vars.SPOTIFY_API_URL,
    refreshTokens: Object.freeze({ ...envRefreshTokenPolicy(vars), ...app.refreshTokens }),
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
  problems.push(...policyProblems(apps, options.file), ...dpopProblems(apps, options.file));
  if (problems.length > 0) throw new ConfigError(problems);

  const resilience = Object.freeze({
    maxConcurrency: vars.UPSTREAM_MAX_CONCURRENCY,
    queueTimeoutMs: vars.UPSTREAM_QUEUE_TIMEOUT_MS,
    breakerThreshold: vars.BREAKER_FAILURE_THRESHOLD,
    breakerCooldownMs: vars.BREAKER_COOLDOWN_MS,
  });
  const frozenApps = Object.freeze(apps.map((app) => Object.freeze(app)));
  return Object.freeze({
    host: vars.HOST,
    port: vars.PORT,
    logLevel: vars.LOG_LEVEL,
    apps: frozenApps,
    trustProxy: vars.TRUST_PROXY,
    redisUrl: vars.REDIS_URL,
    rateLimit: Object.freeze({
      swapPerMinute: vars.RATE_LIMIT_SWAP_PER_MINUTE,
      refreshPerMinute: vars.RATE_LIMIT_REFRESH_PER_MINUTE,
    }),
    resilience,
    metricsToken: vars.METRICS_TOKEN,
    shutdownGraceMs:
      vars.SHUTDOWN_GRACE_MS ??
      defaultShutdownGraceMs({ apps: frozenApps, resilience, redisUrl: vars.REDIS_URL }),
    tracing: tracingConfig(vars),
    publicUrl: vars.PUBLIC_URL,
    dpopNonce: vars.DPOP_NONCE,
  });
}

/**
 * One warning per app whose operator opted out of sealing, for every runtime to log at start-up: the
 * configuration loads only when each app seals or says `none`.
 */
export function unsealedWarnings(config: Pick<ServiceConfig, 'apps'>): string[] {
  return config.apps
    .filter((app) => app.encryptionSecrets.length === 0)
    .map((app) =>
      app.name === DEFAULT_APP
        ? `ENCRYPTION_SECRET=${NO_SEALING}: refresh tokens are handed to clients unsealed`
        : `app ${app.name} has "encryptionSecrets": "${NO_SEALING}": its refresh tokens are handed to clients unsealed`,
    );
}
