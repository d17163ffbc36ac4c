import { describe, expect, it } from 'vitest';
import { basicAuthorization } from '../src/server/upstream/token-request.js';
import { pkceChallenge, randomToken } from '../src/shared/encoding.js';
import { injectFault } from './helpers/sandbox-control.js';
import {
  authorize,
  CLIENT_ID,
  CLIENT_SECRET,
  postForm,
  postJson,
  REDIRECT_URI,
  SECRET_A,
  startStack,
} from './helpers/stack.js';

describe('logs hold no secret at debug level', () => {
  it.each([
    ['with sealing', { ENCRYPTION_SECRET: SECRET_A }],
    ['without sealing', { ENCRYPTION_SECRET: 'none' }],
  ])('a full run %s', async (_, env) => {
    const stack = await startStack({ env, sandbox: { rotateRefreshTokens: true } });
    const secrets = [CLIENT_SECRET, SECRET_A, basicAuthorization(CLIENT_ID, CLIENT_SECRET).slice(6)];
    try {
      const url = stack.service.url;
      const verifier = randomToken(48);
      const { code } = await authorize(stack.accounts.url, {
        code_challenge: await pkceChallenge(verifier),
        code_challenge_method: 'S256',
      });
      secrets.push(code, verifier);
      const swapped = (await (
        await postForm(`${url}/swap?code=${code}`, { code, code_verifier: verifier })
      ).json()) as {
        access_token: string;
        refresh_token: string;
      };
      secrets.push(swapped.access_token, swapped.refresh_token);
      const refreshed = (await (
        await postJson(`${url}/refresh`, { refresh_token: swapped.refresh_token })
      ).json()) as {
        access_token: string;
        refresh_token: string;
      };
      secrets.push(refreshed.access_token, refreshed.refresh_token);

      // Failures log too: a reused code, a bad token, an upstream fault, a timeout.
      await postForm(`${url}/swap`, { code, redirect_uri: REDIRECT_URI });
      await postForm(`${url}/refresh`, { refresh_token: swapped.refresh_token });
      await injectFault(stack.accounts.url, { kind: 'status', status: 500, body: `echo ${code}` });
      await postForm(`${url}/refresh`, { refresh_token: refreshed.refresh_token });
      await injectFault(stack.accounts.url, { kind: 'drop' });
      await postForm(`${url}/refresh`, { refresh_token: refreshed.refresh_token });

      const raw = stack.rawLogs();
      // The log is real: requests and upstream calls were logged at debug level.
      expect(stack.logs.filter((line) => line.msg === 'request').length).toBeGreaterThanOrEqual(6);
      expect(stack.logs.some((line) => line.msg === 'spotify token call')).toBe(true);
      for (const secret of secrets) {
        expect(secret.length).toBeGreaterThan(10);
        expect(raw).not.toContain(secret);
      }
    } finally {
      await stack.close();
    }
  });

  it('logs one line per request with method, path, status, duration and request id', async () => {
    const stack = await startStack({ env: { LOG_LEVEL: 'info' } });
    try {
      await fetch(`${stack.service.url}/healthz`, { headers: { 'X-Request-Id': 'trace-1' } });
      const lines = stack.logs.filter((line) => line.msg === 'request');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ method: 'GET', path: '/healthz', status: 200, reqId: 'trace-1' });
      expect(typeof lines[0]?.durationMs).toBe('number');
    } finally {
      await stack.close();
    }
  });
});
