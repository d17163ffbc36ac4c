/**
 * What a loaded configuration is: one deployment serving a list of Spotify apps, each with its own
 * credentials, redirect allowlist, sealing secrets and CORS origins, plus the service-wide settings.
 * The environment defines the default app, served at the root paths; an apps file adds named ones.
 */
import type { ApiProxyRule } from './api-proxy.js';
import type { RefreshTokenPolicy } from './refresh-tokens.js';
import type { TracingConfig } from './tracing.js';

export type { RefreshTokenPolicy, TracingConfig };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_ACCOUNTS_URL = 'https://accounts.spotify.com';
export const DEFAULT_PORT = 3000;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 10_000;
/** The app the environment defines, served at the root paths. */
export const DEFAULT_APP = 'default';
/** Names of the apps of the configuration file: they become URL paths (`/apps/{name}/swap`). */
export const APP_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * DPoP (RFC 9449) per app: `optional` binds the refresh token of a code exchange that carries a proof;
 * `required` refuses a code exchange without one (endpoints/dpop.ts).
 */
export const DPOP_MODES = ['optional', 'required'] as const;
export type DpopMode = (typeof DPOP_MODES)[number];

export interface AppConfig {
  /** `default` for the app the environment defines. */
  readonly name: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The redirect URI allowlist; the first entry is the default sent upstream. */
  readonly redirectUris: readonly string[];
  /** Spotify Accounts base URL, without a trailing slash. */
  readonly accountsUrl: string;
  /**
   * Sealing secrets: the first seals, all unseal. Empty only when the operator opted out
   * (`ENCRYPTION_SECRET=none`, or `"encryptionSecrets": "none"`): refresh tokens pass through unsealed.
   */
  readonly encryptionSecrets: readonly string[];
  /**
   * Passphrases of the Ruby spotify-token-swap-service: its 3DES-sealed refresh tokens are accepted
   * on /refresh and answered with a token sealed the new way (runtimes that can open them only).
   */
  readonly legacyEncryptionSecrets: readonly string[];
  /** Exact origins allowed to call the service from a browser. */
  readonly corsOrigins: readonly string[];
  readonly upstreamTimeoutMs: number;
  /** Lifetime, idle limit and rotation of the refresh tokens the service hands out for this app. */
  readonly refreshTokens: RefreshTokenPolicy;
  /** Absent: `optional` (configurations built by hand, e.g. `token-swap doctor`'s). */
  readonly dpop?: DpopMode;
  /** The Web API proxy's allowlist (config/api-proxy.ts); absent or empty: no proxy. */
  readonly apiProxyPaths?: readonly ApiProxyRule[];
  /** Where the proxy sends what it allows, without a trailing slash; absent: DEFAULT_API_URL. */
  readonly apiUrl?: string;
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
  /** How long a graceful shutdown waits for in-flight requests (SHUTDOWN_GRACE_MS). */
  readonly shutdownGraceMs: number;
  /** Where and how spans are exported; undefined: tracing is off (the OTEL_* variables). */
  readonly tracing: TracingConfig | undefined;
  /**
   * The service's public base URL, without a trailing slash (PUBLIC_URL): the `issuer` of its RFC 8414
   * metadata. Undefined: each request's own origin stands in (endpoints/metadata.ts).
   */
  readonly publicUrl: string | undefined;
  /** DPOP_NONCE: DPoP proofs must carry a nonce of the service's (endpoints/dpop-nonce.ts). */
  readonly dpopNonce: boolean;
}

export const DEFAULT_RATE_LIMITS: RateLimitConfig = { swapPerMinute: 30, refreshPerMinute: 120 };
export const DEFAULT_RESILIENCE: ResilienceConfig = {
  maxConcurrency: 64,
  queueTimeoutMs: 2_000,
  breakerThreshold: 5,
  breakerCooldownMs: 10_000,
};
