/**
 * One HTTP conformance suite for every runtime entry point (Node, Workers, Deno, Bun): the same
 * requests over a real socket, the same answers expected, byte for byte where clients care
 * (README "HTTP API", docs/spotify-accounts.md §5). Each runtime's test file starts its own sandbox with
 * `startConformanceSandbox`, starts the runtime with `conformanceEnv`, and registers this suite.
 */
import { describe, expect, it } from 'vitest';
import { createSandbox } from '../../src/sandbox/index.js';
import { SEALED_PREFIX } from '../../src/server/sealing/index.js';
import { listen } from '../helpers/listen.js';
import { injectFault, tokenCalls } from '../helpers/sandbox-control.js';
import {
  authorize,
  CLIENT_ID,
  CLIENT_SECRET,
  postForm,
  postJson,
  REDIRECT_URI,
  SECRET_A,
} from '../helpers/stack.js';
import { withSecondToLastFlipped } from '../helpers/tampered.js';
import { oauthConformance } from './oauth.js';

export const ALLOWED_ORIGIN = 'https://app.example.com';
const UPSTREAM_TIMEOUT_MS = 1_000;

/** Fields are read when each test runs, so a `beforeAll` may fill in the URLs. */
export interface ConformanceTarget {
  /** The runtime, for test names. */
  name: string;
  /** The service under test, e.g. `http://127.0.0.1:41234`. */
  serviceUrl: string;
  /** The sandbox it calls as Spotify Accounts (with `/__sandbox` control endpoints). */
  accountsUrl: string;
}

export interface ConformanceSandbox {
  accountsUrl: string;
  close(): Promise<void>;
}

/** The fake Spotify Accounts, in the test process, on a loopback socket every runtime can reach. */
export async function startConformanceSandbox(): Promise<ConformanceSandbox> {
  const sandbox = createSandbox({
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
    autoApprove: true,
  });
  const listening = await listen(sandbox.app.fetch);
  return { accountsUrl: listening.url, close: () => listening.close() };
}

/** The configuration every runtime gets, as string variables (environment or bindings). */
export function conformanceEnv(accountsUrl: string): Record<string, string> {
  return {
    SPOTIFY_CLIENT_ID: CLIENT_ID,
    SPOTIFY_CLIENT_SECRET: CLIENT_SECRET,
    SPOTIFY_REDIRECT_URI: REDIRECT_URI,
    SPOTIFY_ACCOUNTS_URL: accountsUrl,
    ENCRYPTION_SECRET: SECRET_A,
    CORS_ORIGINS: ALLOWED_ORIGIN,
    UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
    // The suite sends many requests from one address.
    RATE_LIMIT_SWAP_PER_MINUTE: '0',
    RATE_LIMIT_REFRESH_PER_MINUTE: '0',
  };
}

const TOKEN_KEYS = [
  'access_token',
  'token_type',
  'expires_in',
  'scope',
  'refresh_token',
  'refresh_token_expires_in',
];

/** Every JSON answer: the media type exactly (SpotifyAPI-NET), never cached. */
function expectJsonHeaders(response: Response) {
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('pragma')).toBe('no-cache');
}

async function expectError(
  response: Response,
  status: number,
  error: string,
  description: string | RegExp = /./,
): Promise<void> {
  const body = (await response.json()) as Record<string, unknown>;
  expect({ status: response.status, error: body.error }).toEqual({ status, error });
  expectJsonHeaders(response);
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
  if (description instanceof RegExp) {
    expect(body.error_description).toMatch(description);
  } else {
    expect(body.error_description).toBe(description);
  }
}

export function conformanceSuite(target: ConformanceTarget): void {
  const service = (path: string) => `${target.serviceUrl}${path}`;

  async function swapForm(path = '/swap') {
    const { code } = await authorize(target.accountsUrl);
    return postForm(service(path), { code, redirect_uri: REDIRECT_URI });
  }

  async function sealedRefreshToken(): Promise<string> {
    const response = await swapForm();
    expect(response.status).toBe(200);
    const { refresh_token } = (await response.json()) as { refresh_token: string };
    return refresh_token;
  }

  /** Sends a request that must be refused before Spotify is called, and checks that it was not. */
  async function withoutUpstreamCall(send: () => Promise<Response>): Promise<Response> {
    const before = await tokenCalls(target.accountsUrl);
    const response = await send();
    expect(await tokenCalls(target.accountsUrl)).toBe(before);
    return response;
  }

  async function stillServes() {
    expect((await swapForm()).status).toBe(200);
  }

  describe(`HTTP conformance: ${target.name}`, () => {
    oauthConformance(target);

    describe('swap', () => {
      it('POST /swap with a form body: 200 with the exact token contract', async () => {
        const response = await swapForm();
        expect(response.status).toBe(200);
        expectJsonHeaders(response);
        const body = (await response.json()) as Record<string, unknown>;
        expect(Object.keys(body)).toEqual(TOKEN_KEYS);
        expect(body.access_token).toMatch(/^BQ/);
        expect(body.token_type).toBe('Bearer');
        expect(body.expires_in).toBe(3600);
        expect(typeof body.expires_in).toBe('number');
        expect(body.scope).toBe('user-read-email user-read-private');
      });

      it('POST /api/token (the Ruby alias) with a JSON body', async () => {
        const { code } = await authorize(target.accountsUrl);
        const response = await postJson(service('/api/token'), { code, redirect_uri: REDIRECT_URI });
        expect(response.status).toBe(200);
        expectJsonHeaders(response);
        expect(Object.keys((await response.json()) as object)).toEqual(TOKEN_KEYS);
      });

      it("passes Spotify's invalid_grant through for a reused code", async () => {
        const { code } = await authorize(target.accountsUrl);
        expect((await postForm(service('/swap'), { code })).status).toBe(200);
        await expectError(
          await postForm(service('/swap'), { code }),
          400,
          'invalid_grant',
          'Invalid authorization code',
        );
      });
    });

    describe('refresh', () => {
      it('POST /refresh with a form body: 200, and no refresh_token when Spotify did not rotate', async () => {
        const refreshToken = await sealedRefreshToken();
        const response = await postForm(service('/refresh'), { refresh_token: refreshToken });
        expect(response.status).toBe(200);
        expectJsonHeaders(response);
        const body = (await response.json()) as Record<string, unknown>;
        expect(Object.keys(body)).toEqual([
          'access_token',
          'token_type',
          'expires_in',
          'scope',
          'refresh_token_expires_in',
        ]);
        expect(body.expires_in).toBe(3600);
      });

      it('POST /api/refresh_token (the Ruby alias) with a JSON body', async () => {
        const refreshToken = await sealedRefreshToken();
        const response = await postJson(service('/api/refresh_token'), { refresh_token: refreshToken });
        expect(response.status).toBe(200);
        expect(Object.keys((await response.json()) as object)).toEqual([
          ...TOKEN_KEYS.slice(0, 4),
          'refresh_token_expires_in',
        ]);
      });
    });

    describe('sealing', () => {
      it('hands out a sealed refresh token that refreshes, even sent without URL encoding', async () => {
        const refreshToken = await sealedRefreshToken();
        expect(refreshToken.startsWith(SEALED_PREFIX)).toBe(true);
        const response = await fetch(service('/refresh'), {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: `refresh_token=${refreshToken}`,
        });
        expect(response.status).toBe(200);
      });

      it('refuses a tampered sealed token with the generic invalid_grant, without calling Spotify', async () => {
        const sealed = await sealedRefreshToken();
        const tampered = withSecondToLastFlipped(sealed);
        const response = await withoutUpstreamCall(() =>
          postForm(service('/refresh'), { refresh_token: tampered }),
        );
        await expectError(response, 400, 'invalid_grant', 'Invalid refresh token');
      });
    });

    describe('invalid requests are refused without calling Spotify', () => {
      it('a missing code: 400 invalid_request', async () => {
        const response = await withoutUpstreamCall(() => postForm(service('/swap'), {}));
        await expectError(response, 400, 'invalid_request');
      });

      it('a repeated parameter: 400 invalid_request', async () => {
        const response = await withoutUpstreamCall(() =>
          fetch(service('/swap'), {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: 'code=a&code=b',
          }),
        );
        await expectError(response, 400, 'invalid_request');
      });

      it('a body that is neither form nor JSON: 415', async () => {
        const response = await withoutUpstreamCall(() =>
          fetch(service('/swap'), {
            method: 'POST',
            headers: { 'Content-Type': 'text/plain' },
            body: 'code=x',
          }),
        );
        await expectError(response, 415, 'invalid_request');
      });

      it('a body over 8 KiB, with a length or chunked: 413', async () => {
        const sized = await withoutUpstreamCall(() =>
          postForm(service('/swap'), { code: 'x', pad: 'y'.repeat(9_000) }),
        );
        await expectError(sized, 413, 'invalid_request');
        const chunked = await withoutUpstreamCall(() =>
          fetch(service('/refresh'), {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: new Blob([`refresh_token=${'z'.repeat(20_000)}`]).stream(),
            duplex: 'half',
          } as RequestInit),
        );
        await expectError(chunked, 413, 'invalid_request');
      });

      it('a chunked body under the limit is read whole: the swap goes through', async () => {
        // A body without Content-Length is counted as it streams in; one with it is judged by it.
        const { code } = await authorize(target.accountsUrl);
        const form = new URLSearchParams({ code, redirect_uri: REDIRECT_URI }).toString();
        const response = await fetch(service('/swap'), {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new Blob([form]).stream(),
          duplex: 'half',
        } as RequestInit);
        expect(response.status).toBe(200);
        expect(((await response.json()) as { access_token?: unknown }).access_token).toMatch(/^BQ/);
      });
    });

    describe('routing', () => {
      it('an unknown path: JSON 404', async () => {
        await expectError(await fetch(service('/nope')), 404, 'not_found');
      });

      it('a write to a read-only endpoint: JSON 405 with Allow: GET, HEAD', async () => {
        const response = await fetch(service('/healthz'), { method: 'POST' });
        expect(response.headers.get('allow')).toBe('GET, HEAD');
        await expectError(response, 405, 'method_not_allowed');
        // HEAD is answered as GET is, without a body (OpenAPI does not list it).
        const head = await fetch(service('/healthz'), { method: 'HEAD' });
        expect(head.status).toBe(200);
        expect(await head.text()).toBe('');
      });

      it('a wrong method: JSON 405 with an Allow header', async () => {
        const response = await fetch(service('/swap'));
        expect(response.headers.get('allow')).toBe('POST, OPTIONS');
        await expectError(response, 405, 'method_not_allowed');
      });

      it('GET /healthz: 200 {"status":"ok"}, and a sane X-Request-Id comes back', async () => {
        const response = await fetch(service('/healthz'), { headers: { 'X-Request-Id': 'conformance.1' } });
        expect(response.status).toBe(200);
        expectJsonHeaders(response);
        expect(response.headers.get('x-request-id')).toBe('conformance.1');
        expect(await response.json()).toEqual({ status: 'ok' });
      });
    });

    describe('upstream failures', () => {
      it('a plain-text 503 from Spotify: 502 for a swap, and the service keeps serving', async () => {
        await injectFault(target.accountsUrl, { kind: 'status', status: 503 });
        await expectError(await swapForm(), 502, 'upstream_error', /503/);
        await stillServes();
      });

      it("Spotify's 429: 429 with Retry-After in whole seconds", async () => {
        await injectFault(target.accountsUrl, { kind: 'rate-limit', retryAfter: 7 });
        const response = await swapForm();
        expect(response.headers.get('retry-after')).toBe('7');
        await expectError(response, 429, 'rate_limited', /7 seconds/);
        await stillServes();
      });

      it('a dropped connection: 502, and the code exchange was sent once (codes are single use)', async () => {
        const { code } = await authorize(target.accountsUrl);
        await injectFault(target.accountsUrl, { kind: 'drop' });
        const before = await tokenCalls(target.accountsUrl);
        const response = await postForm(service('/swap'), { code, redirect_uri: REDIRECT_URI });
        await expectError(response, 502, 'upstream_error', 'Could not reach Spotify Accounts');
        expect(await tokenCalls(target.accountsUrl)).toBe(before + 1);
        await stillServes();
      });

      it('no answer within UPSTREAM_TIMEOUT_MS: 504, long before Spotify would answer', async () => {
        const delayMs = UPSTREAM_TIMEOUT_MS * 4;
        await injectFault(target.accountsUrl, { kind: 'slow', delayMs });
        const started = Date.now();
        const response = await swapForm();
        // Margin for a loaded two-core machine; without the timeout it would take delayMs.
        expect(Date.now() - started).toBeLessThan(delayMs - 1_000);
        await expectError(
          response,
          504,
          'upstream_timeout',
          `Spotify Accounts did not answer within ${UPSTREAM_TIMEOUT_MS} ms`,
        );
        await stillServes();
      });
    });

    describe('CORS', () => {
      const preflight = (origin: string) =>
        fetch(service('/swap'), {
          method: 'OPTIONS',
          headers: {
            Origin: origin,
            'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': 'content-type',
          },
        });

      it('a preflight from an allowed origin: 204 with Access-Control-Allow-Origin', async () => {
        const response = await preflight(ALLOWED_ORIGIN);
        expect(response.status).toBe(204);
        expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
        expect(response.headers.get('access-control-allow-methods')).toContain('POST');
        expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
      });

      it('a preflight from any other origin: JSON 403 without Access-Control-Allow-Origin', async () => {
        const response = await preflight('https://evil.example.com');
        expect(response.headers.get('access-control-allow-origin')).toBeNull();
        await expectError(response, 403, 'invalid_request', 'This origin is not allowed');
      });

      it('a POST from an allowed origin carries Access-Control-Allow-Origin, errors included', async () => {
        const response = await postForm(service('/swap'), {}, { Origin: ALLOWED_ORIGIN });
        expect(response.status).toBe(400);
        expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
        expect(response.headers.get('access-control-expose-headers')).toContain('Retry-After');
      });
    });
  });
}
