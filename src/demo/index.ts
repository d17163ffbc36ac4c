/** A browser demo of the whole flow, served by the service in sandbox mode. */
export { createDemoApp, DEMO_PATH } from './app.js';
export type { DemoMode } from './config.js';
