/** A browser demo of the whole flow, served by the service in sandbox mode. */
export type { DemoOptions } from './app.js';
export { createDemoApp, DEFAULT_DEMO_SCOPES, DEMO_PATH } from './app.js';
