/**
 * DPoP per app and from the browser: the apps file's `dpop` (`required` on one app, the default on
 * the other, each at its own /apps/{name}/token), a value that is neither mode, and the CORS
 * preflight a browser sends before a request with a `DPoP` header.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/server/config/index.js';
import { answer, proof, proofKey } from './helpers/dpop.js';
import {
  authorize,
  CLIENT_ID,
  CLIENT_SECRET,
  postForm,
  REDIRECT_URI,
  SECRET_B,
  stacksClosedAfterEach,
} from './helpers/stack.js';

const start = stacksClosedAfterEach();
const ORIGIN = 'https://app.example.com';
const app = (dpop?: string) => ({
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET,
  redirectUris: [REDIRECT_URI],
  encryptionSecrets: [SECRET_B],
  corsOrigins: [ORIGIN],
  ...(dpop === undefined ? {} : { dpop }),
});

describe('dpop in the apps file', () => {
  it('requires a proof on the app that says so, and only there', async () => {
    const stack = await start({ configFile: { apps: { strict: app('required'), lax: app() } } });
    const exchange = async (name: string, headers: Record<string, string> = {}) => {
      const { code } = await authorize(stack.accounts.url);
      const url = `${stack.service.url}/apps/${name}/token`;
      const fields = {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        client_id: CLIENT_ID,
      };
      return answer(await postForm(url, fields, headers));
    };
    expect(await exchange('strict')).toMatchObject({ status: 400, body: { error: 'invalid_dpop_proof' } });
    expect((await exchange('lax')).status).toBe(200);
    const key = await proofKey();
    const dpop = await proof(key, 'POST', `${stack.service.url}/apps/strict/token`);
    expect((await exchange('strict', { DPoP: dpop })).status).toBe(200);
  });

  it('is optional or required, nothing else, and says where', () => {
    const load = () =>
      loadConfig(
        { SPOTIFY_ACCOUNTS_URL: 'http://127.0.0.1:9' },
        { file: { source: 'token-swap.config.json', content: { apps: { strict: app('always') } } } },
      );
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/apps\.strict\.dpop/);
  });
});

describe('a browser client', () => {
  it('may send the DPoP header: the preflight allows it', async () => {
    const stack = await start({ env: { CORS_ORIGINS: ORIGIN } });
    const preflight = await fetch(`${stack.service.url}/token`, {
      method: 'OPTIONS',
      headers: {
        Origin: ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,dpop',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')?.split(',')).toContain('DPoP');
  });
});
