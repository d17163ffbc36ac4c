/** The service without a login store, so that `/revoke` answers 501 `revocation_unavailable`. */
import { createSandbox } from '../../src/sandbox/index.js';
import { createApp } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config/index.js';
import { listen } from './listen.js';
import { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, SECRET_A } from './stack.js';

export interface StorelessService {
  url: string;
  /** Its own sandbox's. */
  accountsUrl: string;
  close(): Promise<void>;
}

/**
 * The service as a runtime without a login store runs it (`AppOptions.loginStore` unset: Lambda
 * without REDIS_URL, Workers without the Durable Object), with its own sandbox.
 */
export async function startStorelessService(): Promise<StorelessService> {
  const sandbox = createSandbox({
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
    autoApprove: true,
  });
  const accounts = await listen(sandbox.app.fetch);
  const config = loadConfig({
    SPOTIFY_CLIENT_ID: CLIENT_ID,
    SPOTIFY_CLIENT_SECRET: CLIENT_SECRET,
    SPOTIFY_REDIRECT_URI: REDIRECT_URI,
    SPOTIFY_ACCOUNTS_URL: accounts.url,
    ENCRYPTION_SECRET: SECRET_A,
    LOG_LEVEL: 'silent',
  });
  const service = await listen(createApp(config).fetch);
  return {
    url: service.url,
    accountsUrl: accounts.url,
    close: async () => {
      await service.close();
      await accounts.close();
    },
  };
}
