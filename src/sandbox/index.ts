/** A faithful fake of Spotify Accounts for tests and local development. */
export type { Sandbox, SandboxOptions } from './app.js';
export { createSandbox } from './app.js';
export type { SandboxClient } from './clients.js';
export { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_DEFAULT_REDIRECT_URIS } from './clients.js';
export type {
  DropFault,
  Fault,
  FaultTarget,
  GarbageFault,
  RateLimitFault,
  SlowFault,
  StatusFault,
} from './faults.js';
export { FaultError, FaultQueue, parseFaults, UPSTREAM_RESET_BODY } from './faults.js';
export type { GrantKind, SandboxStats, TokenRequestSummary, WebApiRequestSummary } from './stats.js';
export { SANDBOX_DEVICE } from './web-api-player.js';
