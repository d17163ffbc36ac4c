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

const text = (hint: string) =>
  z.preprocess(blankToUndefined, z.string({ error: `is required (${hint})` }).trim());

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

const redirectUriList = z
  .string({ error: 'is required: the redirect URI(s) registered for your app in the Spotify dashboard' })
  .transform((value, ctx) => {
    const uris = splitList(value);
    if (uris.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must hold at least one redirect URI' });
    }
    for (const uri of uris) {
      const verdict = checkRedirectUri(uri);
      if (!verdict.ok) {
        ctx.addIssue({ code: 'custom', message: verdict.reason ?? `"${uri}" is not allowed` });
      }
    }
    return uris;
  });

const accountsUrl = z.preprocess(
  blankToUndefined,
  z
    .string()
    .default(DEFAULT_ACCOUNTS_URL)
    .transform((value, ctx) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: `"${value}" is not an absolute URL` });
        return z.NEVER;
      }
      const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
        // The client secret travels in this request: plain http is for a local sandbox only.
        ctx.addIssue({ code: 'custom', message: 'must use https (plain http is allowed on loopback only)' });
      }
      if (url.search || url.hash || url.username || url.password) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be a base URL without query, fragment or credentials',
        });
      }
      return url.href.replace(/\/+$/, '');
    }),
);

const encryptionSecrets = z.preprocess(
  blankToUndefined,
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      const secrets = splitList(value);
      secrets.forEach((secret, index) => {
        if (secret.length < MIN_SECRET_LENGTH) {
          ctx.addIssue({
            code: 'custom',
            message: `secret #${index + 1} is shorter than ${MIN_SECRET_LENGTH} characters; generate one with: openssl rand -base64 48`,
          });
        }
      });
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
      for (const origin of origins) {
        let parsed: URL | undefined;
        try {
          parsed = new URL(origin);
        } catch {
          parsed = undefined;
        }
        if (origin === '*') {
          ctx.addIssue({ code: 'custom', message: '"*" is not allowed: list the exact origins' });
        } else if (!parsed || parsed.origin !== origin) {
          ctx.addIssue({
            code: 'custom',
            message: `"${origin}" is not an origin (scheme://host[:port], no path or trailing slash)`,
          });
        }
      }
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
  SPOTIFY_CLIENT_ID: text('the Client ID shown on your app page in the Spotify developer dashboard'),
  SPOTIFY_CLIENT_SECRET: text('the Client secret shown on your app page in the Spotify developer dashboard'),
  SPOTIFY_REDIRECT_URI: z.preprocess(blankToUndefined, redirectUriList),
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

/** Reads and validates the configuration; throws a ConfigError listing every problem at once. */
export function loadConfig(env: Env, options: LoadConfigOptions = {}): ServiceConfig {
  const merged: Record<string, string | undefined> = { ...options.defaults };
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') {
      merged[key] = value;
    }
  }
  merged.SPOTIFY_REDIRECT_URI ??= merged.SPOTIFY_CLIENT_CALLBACK_URL;

  const result = EnvSchema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`));
  }
  const vars = result.data;
  if (vars.LEGACY_ENCRYPTION_SECRET.length > 0 && vars.ENCRYPTION_SECRET.length === 0) {
    throw new ConfigError([
      'LEGACY_ENCRYPTION_SECRET: needs ENCRYPTION_SECRET too, since migrated tokens are handed out sealed the new way',
    ]);
  }
  const app: AppConfig = Object.freeze({
    name: 'default',
    clientId: vars.SPOTIFY_CLIENT_ID,
    clientSecret: vars.SPOTIFY_CLIENT_SECRET,
    redirectUris: Object.freeze(vars.SPOTIFY_REDIRECT_URI),
    accountsUrl: vars.SPOTIFY_ACCOUNTS_URL,
    encryptionSecrets: Object.freeze(vars.ENCRYPTION_SECRET),
    legacyEncryptionSecrets: Object.freeze(vars.LEGACY_ENCRYPTION_SECRET),
    corsOrigins: Object.freeze(vars.CORS_ORIGINS),
    upstreamTimeoutMs: vars.UPSTREAM_TIMEOUT_MS,
  });
  return Object.freeze({
    host: vars.HOST,
    port: vars.PORT,
    logLevel: vars.LOG_LEVEL,
    apps: Object.freeze([app]),
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
