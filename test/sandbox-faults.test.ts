import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createSandbox,
  FaultError,
  SANDBOX_CLIENT_ID,
  SANDBOX_CLIENT_SECRET,
  SANDBOX_DEFAULT_REDIRECT_URIS,
  type Sandbox,
  UPSTREAM_RESET_BODY,
} from '../src/sandbox/index.js';
import { type Listening, listen } from './helpers/listen.js';

const REDIRECT = 'http://127.0.0.1:8888/callback';
const BASIC = `Basic ${btoa(`${SANDBOX_CLIENT_ID}:${SANDBOX_CLIENT_SECRET}`)}`;

describe('sandbox fault injection and control endpoints', () => {
  let sandbox: Sandbox;
  let server: Listening;

  beforeAll(async () => {
    sandbox = createSandbox({
      clients: [
        {
          clientId: SANDBOX_CLIENT_ID,
          clientSecret: SANDBOX_CLIENT_SECRET,
          redirectUris: SANDBOX_DEFAULT_REDIRECT_URIS,
        },
      ],
      autoApprove: true,
    });
    server = await listen(sandbox.app.fetch);
  });
  afterAll(() => server.close());
  beforeEach(() => sandbox.reset());

  async function getCode(): Promise<string> {
    const res = await fetch(
      `${server.url}/authorize?${new URLSearchParams({ client_id: SANDBOX_CLIENT_ID, response_type: 'code', redirect_uri: REDIRECT })}`,
      { redirect: 'manual' },
    );
    return new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
  }

  async function exchange(code?: string): Promise<Response> {
    return fetch(`${server.url}/api/token`, {
      method: 'POST',
      headers: { Authorization: BASIC, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: code ?? (await getCode()),
        redirect_uri: REDIRECT,
      }),
    });
  }

  const control = (path: string, init: RequestInit = {}) => fetch(`${server.url}/__sandbox${path}`, init);

  it('answers a status fault with Spotify’s plain-text 5xx body by default, once', async () => {
    sandbox.faults.push({ kind: 'status', status: 503 });
    const res = await exchange();
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(await res.text()).toBe(UPSTREAM_RESET_BODY);
    expect((await exchange()).status).toBe(200);
  });

  it('answers a status fault with the given body and content type', async () => {
    sandbox.faults.push({
      kind: 'status',
      status: 500,
      body: '{"error":"server_error"}',
      contentType: 'application/json',
    });
    const res = await exchange();
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ error: 'server_error' });
  });

  it('applies a fault to `count` calls and queued faults in FIFO order', async () => {
    sandbox.faults.push({ kind: 'status', status: 502, count: 2 }, { kind: 'rate-limit', retryAfter: 1 });
    expect((await exchange()).status).toBe(502);
    expect((await exchange()).status).toBe(502);
    expect((await exchange()).status).toBe(429);
    expect((await exchange()).status).toBe(200);
  });

  it('answers a rate-limit fault with 429, Retry-After exactly as given, and the Web API error body', async () => {
    const date = 'Wed, 21 Oct 2026 07:28:00 GMT';
    sandbox.faults.push({ kind: 'rate-limit', retryAfter: 7 }, { kind: 'rate-limit', retryAfter: date });
    const first = await exchange();
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('7');
    expect(first.headers.get('content-type')).toBe('application/json');
    expect(await first.json()).toEqual({ error: { status: 429, message: 'API rate limit exceeded' } });
    expect((await exchange()).headers.get('retry-after')).toBe(date);
  });

  it('drops the connection without an answer, so fetch rejects, then serves normally', async () => {
    sandbox.faults.push({ kind: 'drop' });
    await expect(exchange()).rejects.toThrow();
    expect((await exchange()).status).toBe(200);
  });

  it('answers a garbage fault with a 200 application/json body that is not JSON', async () => {
    sandbox.faults.push({ kind: 'garbage' });
    const res = await exchange();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    await expect(res.json()).rejects.toThrow();
  });

  it('delays a slow fault by at least delayMs, then processes the request (the code is consumed)', async () => {
    sandbox.faults.push({ kind: 'slow', delayMs: 150 });
    const code = await getCode();
    const started = performance.now();
    const res = await exchange(code);
    // 149: Node's timers count from the event loop's time, taken when the loop turned, so a 150 ms
    // timer can fire a fraction of a millisecond short of 150 by performance.now().
    expect(performance.now() - started).toBeGreaterThanOrEqual(149);
    expect(res.status).toBe(200);
    expect((await exchange(code)).status).toBe(400);
  });

  it('applies a fault without a target to the token endpoint only', async () => {
    sandbox.faults.push({ kind: 'status', status: 500 });
    await getCode();
    expect((await fetch(`${server.url}/v1/me`)).status).toBe(401);
    expect(sandbox.faults.size).toBe(1);
    expect((await exchange()).status).toBe(500);
  });

  it('answers a Web API 429 with "reason": "QUOTA_EXCEEDED" in the Web API error object, and Retry-After', async () => {
    const { access_token } = (await (await exchange()).json()) as { access_token: string };
    const me = () => fetch(`${server.url}/v1/me`, { headers: { Authorization: `Bearer ${access_token}` } });
    sandbox.faults.push({ kind: 'rate-limit', retryAfter: 30, reason: 'QUOTA_EXCEEDED', target: 'web-api' });
    // A token request in between does not spend a fault meant for the Web API.
    expect((await exchange()).status).toBe(200);
    const refused = await me();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(refused.headers.get('content-type')).toBe('application/json');
    expect(await refused.json()).toEqual({
      error: { status: 429, message: 'API rate limit exceeded', reason: 'QUOTA_EXCEEDED' },
    });
    expect((await me()).status).toBe(200);
  });

  it('lets the token endpoint’s 429 fault carry a reason too', async () => {
    sandbox.faults.push({ kind: 'rate-limit', retryAfter: 5, reason: 'QUOTA_EXCEEDED' });
    const refused = await exchange();
    expect([refused.status, refused.headers.get('retry-after')]).toEqual([429, '5']);
    expect(await refused.json()).toEqual({
      error: { status: 429, message: 'API rate limit exceeded', reason: 'QUOTA_EXCEEDED' },
    });
  });

  it('takes a Web API fault of any kind over HTTP, in its own order, and lists it with its target', async () => {
    const { access_token } = (await (await exchange()).json()) as { access_token: string };
    const me = () => fetch(`${server.url}/v1/me`, { headers: { Authorization: `Bearer ${access_token}` } });
    const faults = [
      { kind: 'status', status: 503, target: 'web-api' },
      { kind: 'status', status: 502 },
      { kind: 'rate-limit', retryAfter: 1, reason: 'QUOTA_EXCEEDED', target: 'web-api' },
    ];
    expect((await control('/faults', { method: 'POST', body: JSON.stringify(faults) })).status).toBe(204);
    expect(await (await control('/faults')).json()).toEqual(faults.map((fault) => ({ ...fault, count: 1 })));
    expect((await me()).status).toBe(503);
    expect((await me()).status).toBe(429);
    expect((await me()).status).toBe(200);
    expect((await exchange()).status).toBe(502);
  });

  it('counts token requests by grant, faulted ones included, recording parameter names only', async () => {
    sandbox.faults.push({ kind: 'status', status: 503 });
    await exchange();
    await exchange();
    await fetch(`${server.url}/api/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=AQsecret&client_id=x',
    });
    const stats = sandbox.stats();
    expect(stats).toMatchObject({
      tokenRequests: 3,
      faulted: 1,
      authorizeRequests: 2,
      byGrant: { authorization_code: 2, refresh_token: 1, client_credentials: 0, other: 0 },
      lastTokenRequest: {
        grantType: 'refresh_token',
        hadBasicAuth: false,
        contentType: 'application/x-www-form-urlencoded',
        params: ['grant_type', 'refresh_token', 'client_id'],
      },
    });
    expect(JSON.stringify(stats)).not.toContain('AQsecret');
  });

  it('records a JSON body as a request without parameters', async () => {
    await fetch(`${server.url}/api/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: BASIC },
      body: JSON.stringify({ grant_type: 'authorization_code' }),
    });
    expect(sandbox.stats()).toMatchObject({
      byGrant: { other: 1 },
      lastTokenRequest: { grantType: null, hadBasicAuth: true, contentType: 'application/json', params: [] },
    });
  });

  it('refuses an invalid fault and leaves the queue untouched', () => {
    sandbox.faults.push({ kind: 'drop' });
    expect(() => sandbox.faults.push({ kind: 'garbage' }, { kind: 'slow', delayMs: -1 })).toThrow(FaultError);
    expect(sandbox.faults.pending()).toEqual([{ kind: 'drop', count: 1 }]);
  });

  it('takes faults over HTTP: POST one or many (204), GET lists, DELETE clears, invalid is 400', async () => {
    let res = await control('/faults', {
      method: 'POST',
      body: JSON.stringify({ kind: 'status', status: 502 }),
    });
    expect(res.status).toBe(204);
    res = await control('/faults', {
      method: 'POST',
      body: JSON.stringify([
        { kind: 'garbage', count: 2 },
        { kind: 'rate-limit', retryAfter: '3' },
      ]),
    });
    expect(res.status).toBe(204);
    expect(await (await control('/faults')).json()).toEqual([
      { kind: 'status', status: 502, count: 1 },
      { kind: 'garbage', count: 2 },
      { kind: 'rate-limit', retryAfter: '3', count: 1 },
    ]);
    expect((await exchange()).status).toBe(502);

    for (const body of [
      '{',
      '{"kind":"explode"}',
      '{"kind":"status","status":99}',
      '{"kind":"drop","count":0}',
      '{"kind":"drop","target":"web"}',
      '{"kind":"rate-limit","retryAfter":1,"reason":"quota exceeded"}',
      '{"kind":"rate-limit","retryAfter":1,"reason":7}',
    ]) {
      res = await control('/faults', { method: 'POST', body });
      expect(res.status, body).toBe(400);
      expect((await res.json()).error).toBe('invalid_fault');
    }

    expect((await control('/faults', { method: 'DELETE' })).status).toBe(204);
    expect(await (await control('/faults')).json()).toEqual([]);
    expect((await exchange()).status).toBe(200);
  });

  it('serves stats over HTTP and resets faults and stats, keeping clients', async () => {
    sandbox.faults.push({ kind: 'drop', count: 5 });
    await exchange().catch(() => undefined);
    const stats = await (await control('/stats')).json();
    expect(stats).toMatchObject({ tokenRequests: 1, faulted: 1 });

    expect((await control('/reset', { method: 'POST' })).status).toBe(204);
    expect(sandbox.faults.size).toBe(0);
    expect(sandbox.stats()).toMatchObject({ tokenRequests: 0, faulted: 0, authorizeRequests: 0 });
    expect(sandbox.stats().lastTokenRequest).toBeUndefined();
    expect((await exchange()).status).toBe(200);
  });
});
