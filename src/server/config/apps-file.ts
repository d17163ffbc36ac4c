/**
 * The apps file (`token-swap.config.json`): several Spotify apps in one deployment, each served at
 * `/apps/{name}/...`. Secrets in it may be written out or read from a variable (`{ "env": "NAME" }`).
 */
import * as z from 'zod/mini';
import { checkApiUrl, FILE_API_PROXY_PATHS } from './api-proxy.js';
import { DPOP_MODE } from './env.js';
import { findJsonSyntaxError } from './json-syntax.js';
import { APP_NAME, type AppConfig, DEFAULT_APP } from './model.js';
import { ConfigError, type ConfigProblem } from './problems.js';
import { flag, IDLE_TIMEOUT, MAX_AGE, REUSE_GRACE, type RefreshTokenPolicy } from './refresh-tokens.js';
import {
  checkAccountsUrl,
  corsProblems,
  legacySecretProblems,
  NO_SEALING,
  redirectUriProblems,
  type SealingSecrets,
  sealingRequiredProblems,
  sealingSecretsOf,
  secretProblems,
} from './rules.js';

export interface ConfigFile {
  /** Where it came from, for messages, e.g. `token-swap.config.json`. */
  source: string;
  /** The parsed JSON. */
  content: unknown;
}

/**
 * The apps file from its text: parsed, or a ConfigError that says where the JSON breaks (line and
 * column) and what is wrong there, without quoting the file: it holds secrets, and JSON.parse's own
 * message shows the text around the error. A leading byte order mark, which editors add, is allowed.
 */
export function parseAppsFileText(source: string, text: string): ConfigFile {
  const json = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return { source, content: JSON.parse(json) };
  } catch {
    const found = findJsonSyntaxError(json);
    const where = found
      ? `line ${found.line}, column ${found.column}: ${found.problem}`
      : 'it does not parse';
    throw new ConfigError([{ source, variable: '', message: `not valid JSON (${where})` }]);
  }
}

/** A secret in the configuration file: the value itself, or `{ "env": "NAME" }` to read it from there. */
const secretReference = z.union([
  z.string().check(z.minLength(1)),
  z.strictObject({
    env: z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be a variable name' })),
  }),
]);

const FileAppSchema = z.strictObject({
  clientId: z.string().check(z.trim(), z.minLength(1)),
  clientSecret: secretReference,
  redirectUris: z.array(z.string()).check(z.minLength(1)),
  // Required, as ENCRYPTION_SECRET is: a list of secrets, or "none" to opt out of sealing.
  encryptionSecrets: z.optional(z.union([z.literal(NO_SEALING), z.array(secretReference)])),
  legacyEncryptionSecrets: z._default(z.array(secretReference), []),
  corsOrigins: z._default(z.array(z.string()), []),
  accountsUrl: z.optional(z.string()),
  upstreamTimeoutMs: z.optional(z.number().check(z.int(), z.minimum(100), z.maximum(120_000))),
  // Each left out takes the REFRESH_TOKEN_* variable's value (config/refresh-tokens.ts).
  refreshTokenMaxAge: z.optional(MAX_AGE),
  refreshTokenIdleTimeout: z.optional(IDLE_TIMEOUT),
  refreshTokenRotation: z.optional(flag),
  refreshTokenReuseGrace: z.optional(REUSE_GRACE),
  dpop: z.optional(DPOP_MODE),
  apiProxyPaths: FILE_API_PROXY_PATHS,
  apiUrl: z.optional(z.string()),
});

const FileSchema = z.strictObject({
  // Names are checked after parsing, so that every problem is reported at once.
  apps: z.record(z.string(), FileAppSchema),
});

/** An app of the file; what it leaves out comes from the environment's settings. */
export type FileApp = Omit<AppConfig, 'accountsUrl' | 'upstreamTimeoutMs' | 'refreshTokens' | 'apiUrl'> & {
  accountsUrl: string | undefined;
  apiUrl: string | undefined;
  upstreamTimeoutMs: number | undefined;
  /** Only what the file sets; the rest comes from the REFRESH_TOKEN_* variables. */
  refreshTokens: Partial<RefreshTokenPolicy>;
};

type Report = (variable: string, message: string) => void;

/** The fields that are set, so that spreading it over the defaults keeps the defaults of the rest. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** One app of the file, with every problem reported under `apps.{name}.{field}`. */
function readApp(
  name: string,
  app: z.infer<typeof FileAppSchema>,
  env: Readonly<Record<string, string | undefined>>,
  at: Report,
): FileApp {
  const field = (path: string) => `apps.${name}${path ? `.${path}` : ''}`;
  const resolve = (path: string, reference: z.infer<typeof secretReference>): string => {
    if (typeof reference === 'string') return reference;
    const value = env[reference.env];
    if (value === undefined || value === '') at(field(path), `the variable ${reference.env} is not set`);
    return value ?? '';
  };
  if (!APP_NAME.test(name)) {
    at(field(''), 'app names are 1 to 63 lowercase letters, digits and dashes (they become URL paths)');
  }
  if (name === DEFAULT_APP) {
    at(field(''), `"${DEFAULT_APP}" is the app of the environment variables; choose another name`);
  }
  const sealing: SealingSecrets =
    app.encryptionSecrets === NO_SEALING
      ? NO_SEALING
      : (app.encryptionSecrets ?? []).map((ref, i) => resolve(`encryptionSecrets.${i}`, ref));
  const encryptionSecrets = sealingSecretsOf(sealing);
  const legacyEncryptionSecrets = app.legacyEncryptionSecrets.map((ref, i) =>
    resolve(`legacyEncryptionSecrets.${i}`, ref),
  );
  const accounts = app.accountsUrl === undefined ? undefined : checkAccountsUrl(app.accountsUrl);
  const api = app.apiUrl === undefined ? undefined : checkApiUrl(app.apiUrl);
  const checks: [string, string[]][] = [
    ['redirectUris', redirectUriProblems(app.redirectUris)],
    [
      'encryptionSecrets',
      [
        ...secretProblems(encryptionSecrets),
        ...sealingRequiredProblems(sealing, `"encryptionSecrets": "${NO_SEALING}"`),
      ],
    ],
    ['corsOrigins', corsProblems(app.corsOrigins)],
    [
      'legacyEncryptionSecrets',
      legacySecretProblems(legacyEncryptionSecrets, encryptionSecrets, 'encryptionSecrets'),
    ],
    ['accountsUrl', accounts?.problems ?? []],
    ['apiUrl', api?.problems ?? []],
  ];
  for (const [path, messages] of checks) for (const message of messages) at(field(path), message);
  return {
    name,
    clientId: app.clientId,
    clientSecret: resolve('clientSecret', app.clientSecret),
    redirectUris: Object.freeze([...app.redirectUris]),
    encryptionSecrets: Object.freeze([...encryptionSecrets]),
    legacyEncryptionSecrets: Object.freeze(legacyEncryptionSecrets),
    corsOrigins: Object.freeze([...app.corsOrigins]),
    accountsUrl: accounts?.href,
    upstreamTimeoutMs: app.upstreamTimeoutMs,
    dpop: app.dpop,
    apiProxyPaths: app.apiProxyPaths,
    apiUrl: api?.href,
    refreshTokens: definedOnly({
      maxAgeSeconds: app.refreshTokenMaxAge,
      idleTimeoutSeconds: app.refreshTokenIdleTimeout,
      rotation: app.refreshTokenRotation,
      reuseGraceSeconds: app.refreshTokenReuseGrace,
    }),
  };
}

/** Validates the apps a configuration file declares, resolving `{ "env": NAME }` secrets. */
export function readAppsFile(
  file: ConfigFile,
  env: Readonly<Record<string, string | undefined>>,
): { apps: FileApp[]; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const at: Report = (variable, message) => problems.push({ source: file.source, variable, message });
  const parsed = FileSchema.safeParse(file.content);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) at(issue.path.join('.') || '(top)', issue.message);
    return { apps: [], problems };
  }
  const apps = Object.entries(parsed.data.apps).map(([name, app]) => readApp(name, app, env, at));
  return { apps, problems };
}
