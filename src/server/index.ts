/** The swap service: build the app from a configuration, then serve its `fetch` on any runtime. */
export type { TokenResponse } from '../shared/token-response.js';
export type { AppOptions, Mount } from './app.js';
export { createApp } from './app.js';
export type {
  AppConfig,
  ConfigProblem,
  Env,
  LoadConfigOptions,
  LogLevel,
  ServiceConfig,
} from './config/index.js';
export { ConfigError, DEFAULT_ACCOUNTS_URL, ENV, LOG_LEVELS, loadConfig } from './config/index.js';
export { MAX_BODY_BYTES, TOKEN_ENDPOINTS } from './contract.js';
export type { ErrorCode, OAuthErrorBody } from './errors.js';
export { OAuthError } from './errors.js';
export type { LogFn, Logger } from './logger.js';
export type { Grant, Sealer, SealerFactory } from './sealing/index.js';
export { createSealer, SEALED_PREFIX } from './sealing/index.js';
export type {
  TokenGrant,
  UpstreamFetch,
  UpstreamRequestInit,
  UpstreamResponse,
} from './upstream/token-request.js';
