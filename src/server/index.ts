/** The swap service: build the app from a configuration, then serve its `fetch` on any runtime. */
export type { AppOptions, Mount } from './app.js';
export { createApp, MAX_BODY_BYTES, REFRESH_PATHS, SWAP_PATHS } from './app.js';
export type { AppConfig, Env, LoadConfigOptions, LogLevel, ServiceConfig } from './config.js';
export { ConfigError, DEFAULT_ACCOUNTS_URL, ENV, LOG_LEVELS, loadConfig } from './config.js';
export type { OAuthErrorBody, OAuthErrorCode } from './errors.js';
export { OAuthError } from './errors.js';
export type { LogFn, Logger } from './logger.js';
export type { Sealer, SealerFactory } from './sealing.js';
export { createSealer, SEALED_PREFIX } from './sealing.js';
export type {
  TokenGrant,
  TokenResponse,
  UpstreamFetch,
  UpstreamRequestInit,
  UpstreamResponse,
} from './upstream.js';
