/** The Node.js runtime: server, logger, metrics, Redis shared state, and the assembled service. */
export type { NodeAppInput, NodeAppOptions } from './app-options.js';
export { nodeAppOptions } from './app-options.js';
export { createNodeLogger } from './logger.js';
export { createPromMetrics } from './metrics.js';
export type { CoalescerTimings, RedisOptions, RedisSharedState } from './redis/index.js';
export { createRedisSharedState } from './redis/index.js';
export type { NodeServerOptions, RunningServer } from './server.js';
export { startNodeServer, stopGracefullyOnSignals, VERSION } from './server.js';
export type { NodeService, NodeServiceOptions } from './service.js';
export { createNodeService } from './service.js';
