/** Node-only parts of the client kit: the loopback redirect catcher and the file token store. */
export type { FileStoreOptions } from './file-store.js';
export { createFileStore, defaultStorePath, STORE_DIR_NAME, TokenStoreError } from './file-store.js';
export type { LoopbackCatcher, LoopbackOptions, WaitOptions } from './loopback.js';
export { DEFAULT_LOGIN_TIMEOUT_MS, startLoopbackCatcher } from './loopback.js';
