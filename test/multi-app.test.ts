import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../src/sandbox/index.js';
import { ConfigError, formatProblem, loadConfig, unsealedWarnings } from '../src/server/config/index.js';
import { emptyDir, runCli } from './helpers/cli.js';
import { type Listening, listen } from './helpers/listen.js';
import {
  authorize,
  CLIENT_ID,
  CLIENT_SECRET,
  postForm,
  REDIRECT_URI,
  SECRET_A,
  SECRET_B,
  type Stack,
  startStack,
} from './helpers/stack.js';

const IOS = { clientId: 'ios-client-id', clientSecret: 'ios-client-secret', redirectUri: 'myapp://callback' };
const WEB = {
  clientId: 'web-client-id',
  clientSecret: 'web-client-secret',
  redirectUri: 'https://app.example.com/cb',
};
const WEB_ORIGIN = 'https://app.example.com';

const file = {
  apps: {
    ios: {
      clientId: IOS.clientId,
      clientSecret: { env: 'IOS_CLIENT_SECRET' },
      redirectUris: [IOS.redirectUri],
      encryptionSecrets: [{ env: 'IOS_SEALING' }],
    },
    web: {
      clientId: WEB.clientId,
      clientSecret: WEB.clientSecret,
      redirectUris: [WEB.redirectUri],
      encryptionSecrets: [SECRET_B],
      corsOrigins: [WEB_ORIGIN],
    },
  },
};

let sandbox: Sandbox;
let accounts: Listening;
let stack: Stack;

beforeAll(async () => {
  sandbox = createSandbox({
    clients: [
      { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] },
      { clientId: IOS.clientId, clientSecret: IOS.clientSecret, redirectUris: [IOS.redirectUri] },
      { clientId: WEB.clientId, clientSecret: WEB.clientSecret, redirectUris: [WEB.redirectUri] },
    ],
    autoApprove: true,
  });
  accounts = await listen(sandbox.app.fetch);
  stack = await startStack({
    env: { ENCRYPTION_SECRET: SECRET_A, IOS_CLIENT_SECRET: IOS.clientSecret, IOS_SEALING: `${SECRET_A}-ios` },
    configFile: file,
    accounts: { sandbox, listening: accounts },
  });
});
afterAll(async () => {
  await stack.close();
  await accounts.close();
});

async function codeFor(app: { clientId: string; redirectUri: string }): Promise<string> {
  const query = new URLSearchParams({
    client_id: app.clientId,
    response_type: 'code',
    redirect_uri: app.redirectUri,
  });
  const response = await fetch(`${accounts.url}/authorize?${query}`, { redirect: 'manual' });
  return new URL(response.headers.get('location') ?? '').searchParams.get('code') ?? '';
}

async function swap(prefix: string, app: { clientId: string; redirectUri: string }) {
  const response = await postForm(`${stack.service.url}${prefix}/swap`, { code: await codeFor(app) });
  expect(response.status).toBe(200);
  return (await response.json()) as { refresh_token: string };
}

describe('several apps in one deployment', () => {
  it('serves each app from the file at /apps/{name} with its own credentials, next to the default app', async () => {
    await swap('/apps/ios', IOS);
    expect(sandbox.stats().lastTokenRequest?.hadBasicAuth).toBe(true);
    const web = await swap('/apps/web', WEB);
    const refreshed = await postForm(`${stack.service.url}/apps/web/refresh`, {
      refresh_token: web.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    await swap('', { clientId: CLIENT_ID, redirectUri: REDIRECT_URI });
  });

  it("refuses one app's sealed tokens at another app, without calling Spotify", async () => {
    const ios = await swap('/apps/ios', IOS);
    const calls = sandbox.stats().byGrant.refresh_token;
    for (const path of ['/apps/web/refresh', '/refresh', '/apps/web/api/refresh_token']) {
      const response = await postForm(`${stack.service.url}${path}`, { refresh_token: ios.refresh_token });
      expect(response.status, path).toBe(400);
      expect(await response.json()).toEqual({
        error: 'invalid_grant',
        error_description: 'Invalid refresh token',
      });
    }
    expect(sandbox.stats().byGrant.refresh_token).toBe(calls);
    expect(
      (await postForm(`${stack.service.url}/apps/ios/refresh`, { refresh_token: ios.refresh_token })).status,
    ).toBe(200);
  });

  it('applies CORS per app: an origin listed for one app opens no other app', async () => {
    const preflight = (path: string) =>
      fetch(`${stack.service.url}${path}`, {
        method: 'OPTIONS',
        headers: { Origin: WEB_ORIGIN, 'Access-Control-Request-Method': 'POST' },
      });
    const web = await preflight('/apps/web/swap');
    expect(web.status).toBe(204);
    expect(web.headers.get('access-control-allow-origin')).toBe(WEB_ORIGIN);
    for (const path of ['/apps/ios/swap', '/swap']) {
      const other = await preflight(path);
      expect(other.headers.get('access-control-allow-origin'), path).toBeNull();
    }
  });

  it('lists the apps at GET /, and answers an unknown app with JSON 404', async () => {
    const root = (await (await fetch(`${stack.service.url}/`)).json()) as { apps: Record<string, unknown> };
    expect(root.apps).toEqual({
      default: {
        swap: '/swap',
        refresh: '/refresh',
        revoke: '/revoke',
        token: '/token',
        metadata: '/.well-known/oauth-authorization-server',
        sealing: 'on',
      },
      ios: {
        swap: '/apps/ios/swap',
        refresh: '/apps/ios/refresh',
        revoke: '/apps/ios/revoke',
        token: '/apps/ios/token',
        metadata: '/.well-known/oauth-authorization-server/apps/ios',
        sealing: 'on',
      },
      web: {
        swap: '/apps/web/swap',
        refresh: '/apps/web/refresh',
        revoke: '/apps/web/revoke',
        token: '/apps/web/token',
        metadata: '/.well-known/oauth-authorization-server/apps/web',
        sealing: 'on',
      },
    });
    const unknown = await postForm(`${stack.service.url}/apps/nope/swap`, { code: 'x' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'not_found' });
  });
});

describe('the apps file', () => {
  const base = { SPOTIFY_ACCOUNTS_URL: 'https://accounts.spotify.com' };
  const problems = (content: unknown, env: Record<string, string> = {}) => {
    try {
      loadConfig({ ...base, ...env }, { file: { source: 'apps.json', content } });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems.map(formatProblem).join('\n');
    }
    throw new Error('expected a ConfigError');
  };

  it('makes the environment app optional when the file declares apps', () => {
    const config = loadConfig(
      { IOS_CLIENT_SECRET: 's', IOS_SEALING: SECRET_A },
      { file: { source: 'apps.json', content: file } },
    );
    expect(config.apps.map((app) => app.name)).toEqual(['ios', 'web']);
    expect(config.apps[0]).toMatchObject({ clientSecret: 's', encryptionSecrets: [SECRET_A] });
  });

  it('names the file, the app and the field of every problem, and never prints a secret', () => {
    expect(
      problems({
        apps: {
          Bad_Name: {
            clientId: 'x',
            clientSecret: 'y',
            redirectUris: ['myapp://cb'],
            encryptionSecrets: 'none',
          },
        },
      }),
    ).toMatch(/^apps\.json: apps\.Bad_Name: .*1 to 63 lowercase letters, digits and dashes/);
    const found = problems({
      apps: {
        default: {
          clientId: 'x',
          clientSecret: 'y',
          redirectUris: ['myapp://cb'],
          encryptionSecrets: 'none',
        },
        ios: {
          clientId: 'x',
          clientSecret: { env: 'MISSING_SECRET' },
          redirectUris: ['http://localhost:8888/cb'],
          encryptionSecrets: ['short-secret-value'],
          corsOrigins: ['*'],
        },
      },
    });
    expect(found).toContain('"default" is the app of the environment variables');
    expect(found).toContain('apps.json: apps.ios.clientSecret: the variable MISSING_SECRET is not set');
    expect(found).toContain('apps.json: apps.ios.redirectUris: "http://localhost:8888/cb" uses localhost');
    expect(found).toContain('apps.json: apps.ios.encryptionSecrets: secret #1 is shorter than 32 characters');
    expect(found).toContain('apps.json: apps.ios.corsOrigins: "*" is not allowed');
    expect(found).not.toContain('short-secret-value');
  });

  it('refuses an app without sealing secrets unless it says "none", as ENCRYPTION_SECRET does', () => {
    const app = { clientId: 'x', clientSecret: 'y', redirectUris: ['myapp://cb'] };
    for (const sealing of [{}, { encryptionSecrets: [] }]) {
      expect(problems({ apps: { ios: { ...app, ...sealing } } })).toBe(
        'apps.json: apps.ios.encryptionSecrets: is required: refresh tokens are sealed by default. Generate a secret with `token-swap secret` (or `openssl rand -base64 48`) and set it here; or, to hand refresh tokens to clients unsealed, opt out with "encryptionSecrets": "none"',
      );
    }
    const config = loadConfig(base, {
      file: { source: 'apps.json', content: { apps: { ios: { ...app, encryptionSecrets: 'none' } } } },
    });
    expect(config.apps[0]?.encryptionSecrets).toEqual([]);
    expect(unsealedWarnings(config)).toEqual([
      'app ios has "encryptionSecrets": "none": its refresh tokens are handed to clients unsealed',
    ]);
  });

  it('refuses unknown fields (a typo must not silently drop a setting)', () => {
    expect(
      problems({ apps: { ios: { clientId: 'x', clientSecret: 'y', redirectUri: ['myapp://cb'] } } }),
    ).toMatch(/apps\.json: apps\.ios/);
  });

  it('is read by token-swap serve from the working directory, or from --config', async () => {
    const cwd = emptyDir();
    writeFileSync(join(cwd, 'token-swap.config.json'), JSON.stringify({ apps: { web: file.apps.web } }));
    const run = runCli(['serve', '--port', '0'], { cwd });
    const [, url] = await run.waitFor(/listening on (http:\/\/\S+)/);
    expect(run.stderr()).toMatch(/web\s+POST http:\/\/\S+\/apps\/web\/swap/);
    const root = (await (await fetch(`${url}/`)).json()) as { apps: Record<string, unknown> };
    expect(Object.keys(root.apps)).toEqual(['web']);
    run.child.kill('SIGTERM');
    await run.exited;

    const missing = runCli(['serve', '--config', join(cwd, 'nope.json')], { cwd });
    expect((await missing.exited).code).toBe(1);
    expect(missing.stderr()).toContain('nope.json: the configuration file does not exist');
  });
});

describe('two apps with the same client id, client secret and sealing secret (issue 12, point 9)', () => {
  it("still refuse each other's sealed tokens: the app's name is bound in every token", async () => {
    const twin = {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      redirectUris: [REDIRECT_URI],
      encryptionSecrets: [SECRET_A],
    };
    const twins = await startStack({
      env: { ENCRYPTION_SECRET: SECRET_A },
      accounts: { sandbox, listening: accounts },
      configFile: { apps: { left: twin, right: twin } },
    });
    try {
      const { code } = await authorize(accounts.url);
      const swapped = await postForm(`${twins.service.url}/apps/left/swap`, {
        code,
        redirect_uri: REDIRECT_URI,
      });
      const { refresh_token } = (await swapped.json()) as { refresh_token: string };
      const calls = sandbox.stats().byGrant.refresh_token;
      for (const path of ['/apps/right/refresh', '/refresh']) {
        const response = await postForm(`${twins.service.url}${path}`, { refresh_token });
        expect(response.status, path).toBe(400);
        expect(await response.json()).toEqual({
          error: 'invalid_grant',
          error_description: 'Invalid refresh token',
        });
      }
      expect(sandbox.stats().byGrant.refresh_token).toBe(calls);
      expect((await postForm(`${twins.service.url}/apps/left/refresh`, { refresh_token })).status).toBe(200);
    } finally {
      await twins.close();
    }
  });
});
