import { Writable } from 'node:stream';
import { afterEach } from 'vitest';
import { createNodeLogger, createNodeService, type NodeService } from '../../src/runtimes/node/index.js';
import { createSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';
import { type Env, loadConfig, type ServiceConfig } from '../../src/server/config/index.js';
import { type Listening, listen } from './listen.js';

export const CLIENT_ID = 'test-client-id-0123456789abcdef';
export const CLIENT_SECRET = 'test-client-secret-fedcba9876543210';
export const REDIRECT_URI = 'http://127.0.0.1:8888/callback';
export const SECRET_A = 'sealing-secret-a-0123456789-abcdefghijklmnop';
export const SECRET_B = 'sealing-secret-b-0123456789-qrstuvwxyzABCDEF';
/**
 * The operator's opt-out of sealing, for tests that send made-up or Spotify's own refresh tokens
 * (`AQ...`) to reach the fake Accounts: a sealed service refuses those before calling it.
 */
export const UNSEALED = { ENCRYPTION_SECRET: 'none' } as const;

export interface Stack {
  sandbox: Sandbox;
  accounts: Listening;
  /** The assembled service: its metrics, and its Redis shared state when REDIS_URL is set. */
  node: NodeService;
  service: Listening;
  config: ServiceConfig;
  /** Every log line the service wrote, parsed. */
  logs: Record<string, unknown>[];
  /** The raw log text, for "never contains" checks. */
  rawLogs(): string;
  close(): Promise<void>;
}

export interface StackOptions {
  env?: Env;
  sandbox?: Partial<SandboxOptions>;
  /** A multi-app configuration file's content (token-swap.config.json). */
  configFile?: unknown;
  /** Reuse a running sandbox instead of starting one (e.g. to share tokens between services). */
  accounts?: { sandbox: Sandbox; listening: Listening };
  /** The service's clock (login lifetimes, idle limits, the reuse grace); default: the real one. */
  now?: () => number;
}

/** The sandbox (fake Spotify Accounts) and the swap service, each on its own loopback socket. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const sandbox =
    options.accounts?.sandbox ??
    createSandbox({
      clients: [
        {
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          redirectUris: [REDIRECT_URI, 'http://127.0.0.1/any-port', 'myapp://callback'],
        },
      ],
      autoApprove: true,
      ...options.sandbox,
    });
  const accounts = options.accounts?.listening ?? (await listen(sandbox.app.fetch));
  const config = loadConfig(
    {
      SPOTIFY_CLIENT_ID: CLIENT_ID,
      SPOTIFY_CLIENT_SECRET: CLIENT_SECRET,
      SPOTIFY_REDIRECT_URI: `${REDIRECT_URI},http://127.0.0.1/any-port,myapp://callback`,
      SPOTIFY_ACCOUNTS_URL: accounts.url,
      // The sandbox answers a few Web API endpoints too, for the Web API proxy.
      SPOTIFY_API_URL: accounts.url,
      // Sealing on, as the service requires outside the sandbox; a test of the opt-out sets `none`.
      ENCRYPTION_SECRET: SECRET_A,
      LOG_LEVEL: 'debug',
      UPSTREAM_TIMEOUT_MS: '1000',
      // Tests send many requests from one address; the rate-limit tests set their own budgets.
      RATE_LIMIT_SWAP_PER_MINUTE: '0',
      RATE_LIMIT_REFRESH_PER_MINUTE: '0',
      ...options.env,
    },
    options.configFile === undefined
      ? {}
      : { file: { source: 'token-swap.config.json', content: options.configFile } },
  );
  let raw = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      raw += chunk.toString();
      done();
    },
  });
  const logger = createNodeLogger(config.logLevel, sink);
  const node = createNodeService(config, { logger, version: 'test', now: options.now });
  await node.shared?.ready(2_000);
  const service = await listen(node.app.fetch);
  return {
    sandbox,
    accounts,
    node,
    service,
    config,
    get logs() {
      return raw
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    rawLogs: () => raw,
    async close() {
      await service.close();
      await node.close();
      if (!options.accounts) {
        await accounts.close();
      }
    },
  };
}

/** Runs the sandbox's authorize step (auto-approve) and returns the code from the redirect. */
export async function authorize(
  accountsUrl: string,
  params: Record<string, string> = {},
): Promise<{ code: string; state: string | null }> {
  const url = new URL(`${accountsUrl}/authorize`);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'user-read-email user-read-private',
    state: 'state-123',
    ...params,
  }).toString();
  const response = await fetch(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (response.status !== 302 || !location) {
    throw new Error(`authorize did not redirect: ${response.status} ${await response.text()}`);
  }
  const target = new URL(location);
  const code = target.searchParams.get('code');
  if (!code) {
    throw new Error(`authorize redirected without a code: ${location}`);
  }
  return { code, state: target.searchParams.get('state') };
}

/** POSTs a form body. */
export function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields),
  });
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/**
 * A `start` for tests that each need their own stack: every stack it starts is closed after the
 * test that started it.
 */
export function stacksClosedAfterEach(): (options?: StackOptions) => Promise<Stack> {
  const stacks: Stack[] = [];
  afterEach(async () => {
    await Promise.all(stacks.splice(0).map((stack) => stack.close()));
  });
  return async (options = {}) => {
    const stack = await startStack(options);
    stacks.push(stack);
    return stack;
  };
}
