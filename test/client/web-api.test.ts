/**
 * The kit's reader of Web API error answers: the sandbox's real 429 with `QUOTA_EXCEEDED` and 401 over
 * a socket, and hand-built answers for what a hostile or broken peer could send.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWebApiError, QUOTA_EXCEEDED, readWebApiError } from '../../src/client/index.js';
import {
  createSandbox,
  SANDBOX_CLIENT_ID,
  SANDBOX_CLIENT_SECRET,
  type Sandbox,
} from '../../src/sandbox/index.js';
import { type Listening, listen } from '../helpers/listen.js';

const BASIC = `Basic ${btoa(`${SANDBOX_CLIENT_ID}:${SANDBOX_CLIENT_SECRET}`)}`;

describe('readWebApiError against the sandbox', () => {
  let sandbox: Sandbox;
  let server: Listening;
  let accessToken: string;

  beforeAll(async () => {
    sandbox = createSandbox({
      clients: [{ clientId: SANDBOX_CLIENT_ID, clientSecret: SANDBOX_CLIENT_SECRET, redirectUris: [] }],
    });
    server = await listen(sandbox.app.fetch);
    const minted = await fetch(`${server.url}/__sandbox/mint`, {
      method: 'POST',
      body: JSON.stringify({ refreshTokens: 1 }),
    });
    const { refreshTokens } = (await minted.json()) as { refreshTokens: string[] };
    const answer = await fetch(`${server.url}/api/token`, {
      method: 'POST',
      headers: { Authorization: BASIC, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshTokens[0] ?? '' }),
    });
    accessToken = ((await answer.json()) as { access_token: string }).access_token;
  });
  afterAll(() => server.close());

  const me = (token = accessToken) =>
    fetch(`${server.url}/v1/me`, { headers: { Authorization: `Bearer ${token}` } });

  it('reads a spent quota: status, message, QUOTA_EXCEEDED and Retry-After, and says it so', async () => {
    sandbox.faults.push({ kind: 'rate-limit', retryAfter: 30, reason: 'QUOTA_EXCEEDED', target: 'web-api' });
    const answer = await readWebApiError(await me());
    expect(answer).toEqual({
      status: 429,
      message: 'API rate limit exceeded',
      reason: QUOTA_EXCEEDED,
      retryAfter: 30,
    });
    expect(describeWebApiError(answer)).toBe(
      "Spotify's quota for this app is spent (QUOTA_EXCEEDED); try again in 30 s",
    );
  });

  it('tells a plain rate limit from a spent quota', async () => {
    sandbox.faults.push({ kind: 'rate-limit', retryAfter: 2, target: 'web-api' });
    const answer = await readWebApiError(await me());
    expect(answer.reason).toBeUndefined();
    expect(describeWebApiError(answer)).toBe(
      "Spotify's Web API is rate limiting this app (HTTP 429); try again in 2 s",
    );
  });

  it("reads a 401 with the Web API's own message", async () => {
    const answer = await readWebApiError(await me('BQnot-a-token'));
    expect(answer).toEqual({
      status: 401,
      message: 'Invalid access token',
      reason: undefined,
      retryAfter: undefined,
    });
    expect(describeWebApiError(answer)).toBe('Invalid access token');
  });
});

describe('readWebApiError on answers a broken or hostile peer could send', () => {
  const answer = (body: BodyInit, status: number, headers: Record<string, string> = {}) =>
    readWebApiError(new Response(body, { status, headers }));

  it('drops a message with control characters and a reason that is not one', async () => {
    const read = await answer(
      JSON.stringify({ error: { status: 429, message: 'spent\u001b[2J', reason: 'quota; rm -rf' } }),
      429,
      { 'Retry-After': 'soon' },
    );
    // An unreadable Retry-After counts as the shared reader's default, never as passed on.
    expect(read).toEqual({ status: 429, message: undefined, reason: undefined, retryAfter: 5 });
  });

  it('says the status for a body that is not the Web API error object', async () => {
    const read = await answer('upstream connect error', 503);
    expect(read).toEqual({ status: 503, message: undefined, reason: undefined, retryAfter: undefined });
    expect(describeWebApiError(read)).toBe('The Web API answered HTTP 503');
  });

  it('adds any other reason to the message', async () => {
    const body = {
      error: { status: 403, message: 'Player command failed: Premium required', reason: 'PREMIUM_REQUIRED' },
    };
    expect(describeWebApiError(await answer(JSON.stringify(body), 403))).toBe(
      'Player command failed: Premium required (PREMIUM_REQUIRED)',
    );
  });

  it('reads no more than 64 KiB of a body, and does not fail for it', async () => {
    // Read whole, this would say "short".
    const huge = JSON.stringify({
      error: { status: 500, message: 'short' },
      padding: 'x'.repeat(100 * 1024),
    });
    expect(await answer(huge, 500)).toEqual({
      status: 500,
      message: undefined,
      reason: undefined,
      retryAfter: undefined,
    });
  });
});
