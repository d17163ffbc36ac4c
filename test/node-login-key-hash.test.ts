/**
 * The Node entry hashes login keys with node:crypto instead of WebCrypto (a twentieth of the CPU): the
 * keys must be the very same, or a revocation recorded in Redis, or by a replica on another runtime,
 * would no longer be found for its login.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import { describe, expect, it } from 'vitest';
import { nodeAppOptions } from '../src/runtimes/node/app-options.js';
import { loadConfig } from '../src/server/config/index.js';
import { silentLogger } from '../src/server/logger.js';
import { loginKey, webSha256 } from '../src/server/logins/key.js';
import { noopMetrics } from '../src/server/metrics.js';

const config = loadConfig({
  SPOTIFY_CLIENT_ID: 'client-id',
  SPOTIFY_CLIENT_SECRET: 'client-secret',
  SPOTIFY_REDIRECT_URI: 'http://127.0.0.1/callback',
  ENCRYPTION_SECRET: 'none',
});
const { options } = nodeAppOptions(config, {
  logger: silentLogger,
  metrics: noopMetrics,
  getConnInfo,
  memoryLogins: true,
});

describe("the Node entry's SHA-256 for login keys", () => {
  it.each([
    ['a family id', 'login\ndefault\nclient-id\nAbCdEfGhIjKlMnOpQrStUv'],
    ['text outside ASCII', 'family\ncafé\n\u2713\u{1F3B5}'],
    ['the empty text', ''],
  ])('gives what WebCrypto gives: %s', async (_what, text) => {
    const sha256 = options.sha256;
    expect(sha256).toBeDefined();
    expect(await sha256?.(text)).toBe(await webSha256(text));
  });

  it('so a login key is the same with either', async () => {
    const app = { name: 'default', clientId: 'client-id' };
    expect(await loginKey(app, 'family-1', options.sha256)).toBe(await loginKey(app, 'family-1'));
  });
});
