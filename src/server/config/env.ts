/**
 * The environment variables the service reads: what each is for, and the schema that turns their
 * strings into typed values. The CLI reads its own subsets through `readVariables`, so a variable is
 * checked by one rule wherever it is used. One table of every variable, on purpose: it is longer than
 * the module budget, and splitting it would scatter what the README's configuration table mirrors.
 */
import * as z from 'zod/mini';
import { API_PROXY_PATHS_SCHEMA, checkApiUrl, DEFAULT_API_URL } from './api-proxy.js';
import {
  DEFAULT_ACCOUNTS_URL,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_RATE_LIMITS,
  DEFAULT_RESILIENCE,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  DPOP_MODES,
  LOG_LEVELS,
} from './model.js';
import { type ConfigProblem, envProblem } from './problems.js';
import { DEFAULT_REUSE_GRACE_SECONDS, flag, IDLE_TIMEOUT, MAX_AGE, REUSE_GRACE } from './refresh-tokens.js';
import {
  checkAccountsUrl,
  checkPublicUrl,
  corsProblems,
  NO_SEALING,
  parseSealingSecrets,
  redirectUriProblems,
  type SealingSecrets,
  secretProblems,
  splitList,
} from './rules.js';
import { TRACING_ENV, TRACING_ENV_SCHEMA } from './tracing.js';
import { addIssue, preprocess } from './zod-mini.js';

/** The environment variables the service reads, and what each is for. */
export const ENV = {
  SPOTIFY_CLIENT_ID: 'Client ID of the Spotify app',
  SPOTIFY_CLIENT_SECRET: 'Client secret of the Spotify app',
  SPOTIFY_REDIRECT_URI: 'Redirect URI allowlist, comma-separated; the first is the default',
  SPOTIFY_CLIENT_CALLBACK_URL: 'Alias of SPOTIFY_REDIRECT_URI',
  SPOTIFY_ACCOUNTS_URL: 'Spotify Accounts base URL',
  SPOTIFY_API_URL: 'Spotify Web API base URL, where the Web API proxy sends what it allows',
  API_PROXY_PATHS:
    'The Web API proxy allowlist, comma-separated `METHOD /v1/path` entries (default: no proxy)',
  ENCRYPTION_SECRET:
    'Refresh-token sealing secrets, comma-separated; the first seals, all unseal (`none`: no sealing)',
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
  PUBLIC_URL:
    "The service's public base URL, the issuer of its OAuth metadata (default: each request's own origin)",
  REFRESH_TOKEN_MAX_AGE:
    "How long a login lasts from the user's authorization (seconds, or e.g. 90d; default: Spotify's six months)",
  REFRESH_TOKEN_IDLE_TIMEOUT:
    'How long a login may go without a refresh before it is refused (default: no limit)',
  REFRESH_TOKEN_ROTATION:
    'Every refresh hands out a new refresh token, and reuse of an old one revokes the login',
  REFRESH_TOKEN_REUSE_GRACE:
    "How long the newest token's predecessor still gets the answer of its first use (default: 30 seconds)",
  DPOP: 'optional: bind the refresh token of a code exchange that carries a DPoP proof; required: refuse one without',
  DPOP_NONCE:
    'DPoP proofs must carry a nonce the service handed out (DPoP-Nonce) within the last minute or two',
  SHUTDOWN_GRACE_MS:
    'How long a shutdown waits for in-flight requests (default: a little more than the longest possible request)',
  // OpenTelemetry's own variables, as its specification defines them (tracing.ts).
  ...TRACING_ENV,
} as const;

export type EnvVariable = keyof typeof ENV;
export type Env = Readonly<Record<string, string | undefined>>;

/** DPOP, and an app's `dpop` (apps-file.ts). */
export const DPOP_MODE = z.enum(DPOP_MODES, { error: `must be one of ${DPOP_MODES.join(', ')}` });

const blankToUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const wholeNumber = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a whole number' })
    .check(
      z.int({ error: 'must be a whole number' }),
      z.minimum(min, { error: `must be at least ${min}` }),
      z.maximum(max, { error: `must be at most ${max}` }),
    );

const integer = (fallback: number, min: number, max: number) =>
  preprocess(blankToUndefined, z._default(wholeNumber(min, max), fallback));

/** Turns a rule's sentences into zod issues on the current variable. */
function report(ctx: z.core.ParsePayload, problems: readonly string[]) {
  for (const message of problems) addIssue(ctx, message);
}

/** A string variable read by `read`, which reports what is wrong with it; unset is `undefined`. */
const checked = <T>(read: (value: string | undefined, ctx: z.core.ParsePayload) => T) =>
  preprocess(blankToUndefined, z.pipe(z.optional(z.string()), z.transform(read)));

/** A comma-separated list, each entry checked by `rule`; unset or blank is an empty list. */
const list = (rule: (items: readonly string[]) => string[]) =>
  checked((value, ctx) => {
    const items = splitList(value);
    report(ctx, rule(items));
    return items;
  });

const optionalText = preprocess(blankToUndefined, z.optional(z.string().check(z.trim())));

const ENV_SCHEMA = {
  // Required unless a configuration file declares the apps: checked when the apps are assembled.
  SPOTIFY_CLIENT_ID: optionalText,
  SPOTIFY_CLIENT_SECRET: optionalText,
  SPOTIFY_REDIRECT_URI: checked((value, ctx) => {
    if (value === undefined) return undefined;
    const uris = splitList(value);
    report(ctx, redirectUriProblems(uris));
    return uris;
  }),
  SPOTIFY_ACCOUNTS_URL: preprocess(
    blankToUndefined,
    z.pipe(
      z._default(z.string(), DEFAULT_ACCOUNTS_URL),
      z.transform((value, ctx) => {
        const { href, problems } = checkAccountsUrl(value);
        report(ctx, problems);
        return href ?? value;
      }),
    ),
  ),
  SPOTIFY_API_URL: preprocess(
    blankToUndefined,
    z.pipe(
      z._default(z.string(), DEFAULT_API_URL),
      z.transform((value, ctx) => {
        const { href, problems } = checkApiUrl(value);
        report(ctx, problems);
        return href ?? value;
      }),
    ),
  ),
  API_PROXY_PATHS: API_PROXY_PATHS_SCHEMA,
  // Required (unless `none`) when the environment defines an app: checked when the apps are assembled.
  ENCRYPTION_SECRET: checked((value, ctx): SealingSecrets => {
    const secrets = parseSealingSecrets(value);
    if (secrets !== NO_SEALING) report(ctx, secretProblems(secrets));
    return secrets;
  }),
  // Old passphrases had no length rule; the commas split several of them.
  LEGACY_ENCRYPTION_SECRET: list(() => []),
  CORS_ORIGINS: list(corsProblems),
  PORT: integer(DEFAULT_PORT, 0, 65_535),
  HOST: preprocess(blankToUndefined, z._default(z.string().check(z.trim()), DEFAULT_HOST)),
  UPSTREAM_TIMEOUT_MS: integer(DEFAULT_UPSTREAM_TIMEOUT_MS, 100, 120_000),
  LOG_LEVEL: preprocess(
    (value) => (typeof value === 'string' ? value.trim().toLowerCase() || undefined : value),
    z._default(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }), 'info'),
  ),
  TRUST_PROXY: integer(0, 0, 10),
  REDIS_URL: preprocess(
    blankToUndefined,
    z.optional(z.string()).check(
      z.refine((value) => value === undefined || /^rediss?:\/\/[^\s]+$/.test(value), {
        // The URL may hold a password: say what is wrong without echoing it.
        error: 'must be a redis:// or rediss:// URL',
      }),
    ),
  ),
  RATE_LIMIT_SWAP_PER_MINUTE: integer(DEFAULT_RATE_LIMITS.swapPerMinute, 0, 1_000_000),
  RATE_LIMIT_REFRESH_PER_MINUTE: integer(DEFAULT_RATE_LIMITS.refreshPerMinute, 0, 1_000_000),
  UPSTREAM_MAX_CONCURRENCY: integer(DEFAULT_RESILIENCE.maxConcurrency, 1, 10_000),
  UPSTREAM_QUEUE_TIMEOUT_MS: integer(DEFAULT_RESILIENCE.queueTimeoutMs, 0, 60_000),
  BREAKER_FAILURE_THRESHOLD: integer(DEFAULT_RESILIENCE.breakerThreshold, 1, 1_000),
  BREAKER_COOLDOWN_MS: integer(DEFAULT_RESILIENCE.breakerCooldownMs, 100, 600_000),
  // Unset: derived from the timeouts once they are known (config/budgets.ts).
  SHUTDOWN_GRACE_MS: preprocess(blankToUndefined, z.optional(wholeNumber(0, 600_000))),
  REFRESH_TOKEN_MAX_AGE: preprocess(blankToUndefined, z.optional(MAX_AGE)),
  REFRESH_TOKEN_IDLE_TIMEOUT: preprocess(blankToUndefined, z.optional(IDLE_TIMEOUT)),
  REFRESH_TOKEN_ROTATION: preprocess(blankToUndefined, z._default(flag, false)),
  REFRESH_TOKEN_REUSE_GRACE: preprocess(
    blankToUndefined,
    z._default(REUSE_GRACE, DEFAULT_REUSE_GRACE_SECONDS),
  ),
  DPOP_NONCE: preprocess(blankToUndefined, z._default(flag, false)),
  DPOP: preprocess(
    (value) => (typeof value === 'string' ? value.trim().toLowerCase() || undefined : value),
    z._default(DPOP_MODE, 'optional'),
  ),
  PUBLIC_URL: checked((value, ctx) => {
    if (value === undefined) return undefined;
    const { href, problems } = checkPublicUrl(value);
    report(ctx, problems);
    return href ?? value;
  }),
  METRICS_TOKEN: preprocess(
    blankToUndefined,
    z.optional(z.string().check(z.minLength(16, { error: 'must be at least 16 characters' }))),
  ),
  ...TRACING_ENV_SCHEMA,
} satisfies Partial<Record<EnvVariable, z.ZodMiniType>>;

type Schema = typeof ENV_SCHEMA;
export type EnvValues = { [K in keyof Schema]: z.output<Schema[K]> };

/**
 * The environment with blanks dropped, `defaults` under it and the old alias folded in: what the
 * schema reads.
 */
function mergeEnv(env: Env, defaults: Partial<Record<EnvVariable, string>> = {}): Env {
  const merged: Record<string, string | undefined> = { ...defaults };
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') merged[key] = value;
  }
  merged.SPOTIFY_REDIRECT_URI ??= merged.SPOTIFY_CLIENT_CALLBACK_URL;
  return merged;
}

/**
 * Reads some variables with the service's own rules and defaults: the values, or the problems. For
 * the CLI's commands that need only a few of them (`token-swap sandbox`).
 */
export function readVariables<const Names extends keyof Schema>(
  env: Env,
  names: readonly Names[],
  defaults: Partial<Record<EnvVariable, string>> = {},
): { values: Pick<EnvValues, Names>; problems: [] } | { values: undefined; problems: ConfigProblem[] } {
  const shape = Object.fromEntries(names.map((name) => [name, ENV_SCHEMA[name]])) as Pick<Schema, Names>;
  const result = z.object(shape).safeParse(mergeEnv(env, defaults));
  if (result.success) return { values: result.data as Pick<EnvValues, Names>, problems: [] };
  return {
    values: undefined,
    problems: result.error.issues.map((issue) => envProblem(String(issue.path[0]), issue.message)),
  };
}

/** Reads every variable of the schema. */
export function readEnv(
  env: Env,
  defaults?: Partial<Record<EnvVariable, string>>,
): { values: EnvValues; problems: [] } | { values: undefined; problems: ConfigProblem[] } {
  return readVariables(env, Object.keys(ENV_SCHEMA) as (keyof Schema)[], defaults);
}
