/**
 * Configuration: environment variables in, a validated, frozen `ServiceConfig` out.
 *
 * The shape is multi-app from the start: one deployment serves a list of Spotify apps, each with its
 * own credentials, redirect allowlist, sealing secrets and CORS origins. The environment defines the
 * default app, served at the root paths.
 *
 * Error messages name the variable and say what to do; they never echo a secret's value.
 */
import { z } from 'zod';
import { checkRedirectUri } from '../shared/redirect-uri.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_ACCOUNTS_URL = 'https://accounts.spotify.com';
export const DEFAULT_PORT = 3000;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 10_000;
export const MIN_SECRET_LENGTH = 32;
/** The app the environment defines, served at the root paths. */
export const DEFAULT_APP = 'default';
export const DEFAULT_RATE_LIMITS: RateLimitConfig = { swapPerMinute: 30, refreshPerMinute: 120 };
export const DEFAULT_RESILIENCE: ResilienceConfig = {
  maxConcurrency: 64,
  queueTimeoutMs: 2_000,
  breakerThreshold: 5,
  breakerCooldownMs: 10_000,
};

export interface AppConfig {
  /** `default` for the app the environment defines. */
  readonly name: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The redirect URI allowlist; the first entry is the default sent upstream. */
  readonly redirectUris: readonly string[];
  /** Spotify Accounts base URL, without a trailing slash. */
  readonly accountsUrl: string;
  /** Sealing secrets: the first seals, all unseal. Empty: refresh tokens pass through unsealed. */
  readonly encryptionSecrets: readonly string[];
  /**
   * Passphrases of the Ruby spotify-token-swap-service: its 3DES-sealed refresh tokens are accepted
   * on /refresh and answered with a token sealed the new way (runtimes that can open them only).
   */
  readonly legacyEncryptionSecrets: readonly string[];
  /** Exact origins allowed to call the service from a browser. */
  readonly corsOrigins: readonly string[];
  readonly upstreamTimeoutMs: number;
}

export interface ResilienceConfig {
  /** Calls to Spotify in flight at once, per process. */
  readonly maxConcurrency: number;
  /** How long a call may wait for a free slot before a 503. */
  readonly queueTimeoutMs: number;
  /** Consecutive upstream failures (timeouts, 5xx) that open the circuit breaker. */
  readonly breakerThreshold: number;
  readonly breakerCooldownMs: number;
}

export interface RateLimitConfig {
  /** Requests per minute and client address; 0 disables. */
  readonly swapPerMinute: number;
  readonly refreshPerMinute: number;
}

export interface ServiceConfig {
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly apps: readonly AppConfig[];
  /** How many proxies in front of the service append to X-Forwarded-For; 0: use the socket address. */
  readonly trustProxy: number;
  /** Shared state for rate limits and refresh coalescing across replicas. */
  readonly redisUrl: string | undefined;
  readonly rateLimit: RateLimitConfig;
  readonly resilience: ResilienceConfig;
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined;
}

/** The environment variables the service reads, and what each is for. */
export const ENV = {
  SPOTIFY_CLIENT_ID: 'Client ID of the Spotify app',
  SPOTIFY_CLIENT_SECRET: 'Client secret of the Spotify app',
  SPOTIFY_REDIRECT_URI: 'Redirect URI allowlist, comma-separated; the first is the default',
  SPOTIFY_CLIENT_CALLBACK_URL: 'Alias of SPOTIFY_REDIRECT_URI',
  SPOTIFY_ACCOUNTS_URL: 'Spotify Accounts base URL',
  ENCRYPTION_SECRET: 'Refresh-token sealing secrets, comma-separated; the first seals, all unseal',
  LEGACY_ENCRYPTION_SECRET: 'ENCRYPTION_SECRET of the Ruby token swap service, to migrate its tokens',
  CORS_ORIGINS: 'Browser origins allowed to call the service, comma-separated',
  PORT: 'TCP port to listen on',
  HOST: 'Address to listen on',
  UPSTREAM_TIMEOUT_MS: 'Timeout of one call to Spotify Accounts, in milliseconds',
  LOG_LEVEL: 'Log level',
  TRUST_PROXY: 'Number of proxies in front of the service that append to X-Forwarded-For',
  REDIS_URL: 'Redis for rate limits and refresh coalescing shared by all replicas',
  RATE_LIMIT_SWAP_PER_MINUTE: 'Swaps per minute and client address (0: no limit)',
  RATE_LIMIT_REFRESH_PER_MINUTE: 'Refreshes per minute and client address (0: no limit)',
  UPSTREAM_MAX_CONCURRENCY: 'Calls to Spotify in flight at once, per process',
  UPSTREAM_QUEUE_TIMEOUT_MS: 'How long a call waits for a free slot before a 503',
  BREAKER_FAILURE_THRESHOLD: 'Consecutive upstream failures that open the circuit breaker',
  BREAKER_COOLDOWN_MS: 'How long the open circuit breaker refuses calls before a probe',
  METRICS_TOKEN: 'Bearer token required by GET /metrics (default: open)',
} as const;

export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  /**
   * Defaults that apply when a variable is unset, e.g. the sandbox's fixed credentials. They are
   * validated like everything else.
   */
  defaults?: Partial<Record<keyof typeof ENV, string>>;
}

/** Splits a comma-separated list, trimming blanks. */
export function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

const blankToUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const integer = (fallback: number, min: number, max: number) =>
  z.preprocess(
    blankToUndefined,
    z.coerce
      .number({ error: 'must be a whole number' })
      .int({ error: 'must be a whole number' })
      .min(min, { error: `must be at least ${min}` })
      .max(max, { error: `must be at most ${max}` })
      .default(fallback),
  );

/** Each check returns sentences for a person; none of them echoes a secret. */
function redirectUriProblems(uris: readonly string[]): string[] {
  if (uris.length === 0) return ['must hold at least one redirect URI'];
  return uris.flatMap((uri) => {
    const verdict = checkRedirectUri(uri);
    return verdict.ok ? [] : [verdict.reason ?? `"${uri}" is not allowed`];
  });
}

function normalizeAccountsUrl(value: string): { href?: string; problems: string[] } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problems: [`"${value}" is not an absolute URL`] };
  }
  const problems: string[] = [];
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    // The client secret travels in this request: plain http is for a local sandbox only.
    problems.push('must use https (plain http is allowed on loopback only)');
  }
  if (url.search || url.hash || url.username || url.password) {
    problems.push('must be a base URL without query, fragment or credentials');
  }
  return { href: url.href.replace(/\/+$/, ''), problems };
}

function secretProblems(secrets: readonly string[]): string[] {
  return secrets.flatMap((secret, index) =>
    secret.length < MIN_SECRET_LENGTH
      ? [
          `secret #${index + 1} is shorter than ${MIN_SECRET_LENGTH} characters; generate one with: openssl rand -base64 48`,
        ]
      : [],
  );
}

function corsProblems(origins: readonly string[]): string[] {
  return origins.flatMap((origin) => {
    if (origin === '*') return ['"*" is not allowed: list the exact origins'];
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    return parsed?.origin === origin
      ? []
      : [`"${origin}" is not an origin (scheme://host[:port], no path or trailing slash)`];
  });
}

/** Turns a check into zod issues on the current variable. */
function report(ctx: z.RefinementCtx, problems: readonly string[]) {
  for (const message of problems) ctx.addIssue({ code: 'custom', message });
}

const redirectUriList = z.preprocess(
  blankToUndefined,
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      const uris = splitList(value);
      report(ctx, redirectUriProblems(uris));
      return uris;
    }),
);

const accountsUrl = z.preprocess(
  blankToUndefined,
  z
    .string()
    .default(DEFAULT_ACCOUNTS_URL)
    .transform((value, ctx) => {
      const { href, problems } = normalizeAccountsUrl(value);
      report(ctx, problems);
      return href ?? value;
    }),
);

const encryptionSecrets = z.preprocess(
  blankToUndefined,
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      const secrets = splitList(value);
      report(ctx, secretProblems(secrets));
      return secrets;
    }),
);

const corsOrigins = z.preprocess(
  blankToUndefined,
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      const origins = splitList(value);
      report(ctx, corsProblems(origins));
      return origins;
    }),
);

const redisUrl = z.preprocess(
  blankToUndefined,
  z
    .string()
    .optional()
    .refine((value) => value === undefined || /^rediss?:\/\/[^\s]+$/.test(value), {
      // The URL may hold a password: say what is wrong without echoing it.
      error: 'must be a redis:// or rediss:// URL',
    }),
);

const metricsToken = z.preprocess(
  blankToUndefined,
  z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
);

const EnvSchema = z.object({
  // Required unless a configuration file declares the apps: checked after parsing.
  SPOTIFY_CLIENT_ID: z.preprocess(blankToUndefined, z.string().trim().optional()),
  SPOTIFY_CLIENT_SECRET: z.preprocess(blankToUndefined, z.string().trim().optional()),
  SPOTIFY_REDIRECT_URI: redirectUriList,
  SPOTIFY_ACCOUNTS_URL: accountsUrl,
  ENCRYPTION_SECRET: encryptionSecrets,
  LEGACY_ENCRYPTION_SECRET: z.preprocess(
    blankToUndefined,
    z
      .string()
      .optional()
      // Old passphrases had no length rule; the commas split several of them.
      .transform((value) => splitList(value)),
  ),
  CORS_ORIGINS: corsOrigins,
  PORT: integer(DEFAULT_PORT, 0, 65_535),
  HOST: z.preprocess(blankToUndefined, z.string().trim().default(DEFAULT_HOST)),
  UPSTREAM_TIMEOUT_MS: integer(DEFAULT_UPSTREAM_TIMEOUT_MS, 100, 120_000),
  LOG_LEVEL: z.preprocess(
    (value) => (typeof value === 'string' ? value.trim().toLowerCase() || undefined : value),
    z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  ),
  TRUST_PROXY: integer(0, 0, 10),
  REDIS_URL: redisUrl,
  RATE_LIMIT_SWAP_PER_MINUTE: integer(DEFAULT_RATE_LIMITS.swapPerMinute, 0, 1_000_000),
  RATE_LIMIT_REFRESH_PER_MINUTE: integer(DEFAULT_RATE_LIMITS.refreshPerMinute, 0, 1_000_000),
  UPSTREAM_MAX_CONCURRENCY: integer(DEFAULT_RESILIENCE.maxConcurrency, 1, 10_000),
  UPSTREAM_QUEUE_TIMEOUT_MS: integer(DEFAULT_RESILIENCE.queueTimeoutMs, 0, 60_000),
  BREAKER_FAILURE_THRESHOLD: integer(DEFAULT_RESILIENCE.breakerThreshold, 1, 1_000),
  BREAKER_COOLDOWN_MS: integer(DEFAULT_RESILIENCE.breakerCooldownMs, 100, 600_000),
  METRICS_TOKEN: metricsToken,
});

/** A secret in the configuration file: the value itself, or `{ "env": "NAME" }` to read it from there. */
const secretReference = z.union([
  z.string().min(1),
  z
    .object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be a variable name' }) })
    .strict(),
]);

export const APP_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

const FileAppSchema = z
  .object({
    clientId: z.string().trim().min(1),
    clientSecret: secretReference,
    redirectUris: z.array(z.string()).min(1),
    encryptionSecrets: z.array(secretReference).default([]),
    legacyEncryptionSecrets: z.array(secretReference).default([]),
    corsOrigins: z.array(z.string()).default([]),
    accountsUrl: z.string().optional(),
    upstreamTimeoutMs: z.number().int().min(100).max(120_000).optional(),
  })
  .strict();

const FileSchema = z
  .object({
    // Names are checked after parsing, so that every problem is reported at once.
    apps: z.record(z.string(), FileAppSchema),
  })
  .strict();

export interface ConfigFile {
  /** Where it came from, for messages, e.g. `token-swap.config.json`. */
  source: string;
  /** The parsed JSON. */
  content: unknown;
}

/** Reads and validates the configuration; throws a ConfigError listing every problem at once. */
export function loadConfig(env: Env, options: LoadConfigOptions & { file?: ConfigFile } = {}): ServiceConfig {
  const merged: Record<string, string | undefined> = { ...options.defaults };
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') {
      merged[key] = value;
    }
  }
  merged.SPOTIFY_REDIRECT_URI ??= merged.SPOTIFY_CLIENT_CALLBACK_URL;

  const problems: string[] = [];
  const result = EnvSchema.safeParse(merged);
  if (!result.success) {
    problems.push(...result.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`));
  }
  const fileApps = options.file ? loadFileApps(options.file, merged, problems) : [];
  if (!result.success) {
    throw new ConfigError(problems);
  }
  const vars = result.data;

  // The environment defines the default app, unless a file declares the apps and the environment
  // says nothing about one.
  const envDefinesApp =
    vars.SPOTIFY_CLIENT_ID !== undefined ||
    vars.SPOTIFY_CLIENT_SECRET !== undefined ||
    vars.SPOTIFY_REDIRECT_URI !== undefined;
  const apps: AppConfig[] = [];
  if (envDefinesApp || !options.file) {
    const missing: [keyof typeof ENV, string][] = [
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
    for (const [name, message] of missing) {
      if (vars[name as 'SPOTIFY_CLIENT_ID'] === undefined) problems.push(`${name}: ${message}`);
    }
    if (vars.LEGACY_ENCRYPTION_SECRET.length > 0 && vars.ENCRYPTION_SECRET.length === 0) {
      problems.push(
        'LEGACY_ENCRYPTION_SECRET: needs ENCRYPTION_SECRET too, since migrated tokens are handed out sealed the new way',
      );
    }
    if (vars.SPOTIFY_CLIENT_ID && vars.SPOTIFY_CLIENT_SECRET && vars.SPOTIFY_REDIRECT_URI) {
      apps.push(
        Object.freeze({
          name: DEFAULT_APP,
          clientId: vars.SPOTIFY_CLIENT_ID,
          clientSecret: vars.SPOTIFY_CLIENT_SECRET,
          redirectUris: Object.freeze(vars.SPOTIFY_REDIRECT_URI),
          accountsUrl: vars.SPOTIFY_ACCOUNTS_URL,
          encryptionSecrets: Object.freeze(vars.ENCRYPTION_SECRET),
          legacyEncryptionSecrets: Object.freeze(vars.LEGACY_ENCRYPTION_SECRET),
          corsOrigins: Object.freeze(vars.CORS_ORIGINS),
          upstreamTimeoutMs: vars.UPSTREAM_TIMEOUT_MS,
        }),
      );
    }
  }
  for (const app of fileApps) {
    apps.push(
      Object.freeze({
        ...app,
        accountsUrl: app.accountsUrl ?? vars.SPOTIFY_ACCOUNTS_URL,
        upstreamTimeoutMs: app.upstreamTimeoutMs ?? vars.UPSTREAM_TIMEOUT_MS,
      }),
    );
  }
  if (problems.length === 0 && apps.length === 0) {
    problems.push(`${options.file?.source ?? 'configuration'}: declares no app; add one under "apps"`);
  }
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }

  return Object.freeze({
    host: vars.HOST,
    port: vars.PORT,
    logLevel: vars.LOG_LEVEL,
    apps: Object.freeze(apps),
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
  });
}

type FileApp = Omit<AppConfig, 'accountsUrl' | 'upstreamTimeoutMs'> & {
  accountsUrl: string | undefined;
  upstreamTimeoutMs: number | undefined;
};

/** Validates the apps a configuration file declares, resolving `{ "env": NAME }` secrets. */
function loadFileApps(file: ConfigFile, env: Env, problems: string[]): FileApp[] {
  const parsed = FileSchema.safeParse(file.content);
  if (!parsed.success) {
    problems.push(
      ...parsed.error.issues.map(
        (issue) => `${file.source}: ${issue.path.join('.') || '(top)'}: ${issue.message}`,
      ),
    );
    return [];
  }
  const apps: FileApp[] = [];
  for (const [name, app] of Object.entries(parsed.data.apps)) {
    const at = (field: string, message: string) =>
      problems.push(`${file.source}: apps.${name}${field ? `.${field}` : ''}: ${message}`);
    const resolve = (field: string, reference: z.infer<typeof secretReference>): string => {
      if (typeof reference === 'string') return reference;
      const value = env[reference.env];
      if (value === undefined || value === '') at(field, `the variable ${reference.env} is not set`);
      return value ?? '';
    };
    if (!APP_NAME.test(name)) {
      at('', 'app names are 1 to 63 lowercase letters, digits and dashes (they become URL paths)');
    }
    if (name === DEFAULT_APP) {
      at('', `"${DEFAULT_APP}" is the app of the environment variables; choose another name`);
    }
    const encryptionSecrets = app.encryptionSecrets.map((ref, i) => resolve(`encryptionSecrets.${i}`, ref));
    const legacyEncryptionSecrets = app.legacyEncryptionSecrets.map((ref, i) =>
      resolve(`legacyEncryptionSecrets.${i}`, ref),
    );
    for (const message of redirectUriProblems(app.redirectUris)) at('redirectUris', message);
    for (const message of secretProblems(encryptionSecrets)) at('encryptionSecrets', message);
    for (const message of corsProblems(app.corsOrigins)) at('corsOrigins', message);
    if (legacyEncryptionSecrets.length > 0 && encryptionSecrets.length === 0) {
      at('legacyEncryptionSecrets', 'needs encryptionSecrets too');
    }
    let accountsUrl: string | undefined;
    if (app.accountsUrl !== undefined) {
      const checked = normalizeAccountsUrl(app.accountsUrl);
      for (const message of checked.problems) at('accountsUrl', message);
      accountsUrl = checked.href;
    }
    apps.push({
      name,
      clientId: app.clientId,
      clientSecret: resolve('clientSecret', app.clientSecret),
      redirectUris: Object.freeze([...app.redirectUris]),
      encryptionSecrets: Object.freeze(encryptionSecrets),
      legacyEncryptionSecrets: Object.freeze(legacyEncryptionSecrets),
      corsOrigins: Object.freeze([...app.corsOrigins]),
      accountsUrl,
      upstreamTimeoutMs: app.upstreamTimeoutMs,
    });
  }
  return apps;
}
