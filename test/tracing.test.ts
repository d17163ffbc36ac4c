/**
 * OpenTelemetry traces, end to end: the Node service with the OTEL_* variables exports to a small
 * OTLP/HTTP receiver on a loopback port (test/helpers/otlp-receiver.ts), over real sockets, against
 * the sandbox. Each case flushes the service's buffer and reads what the receiver decoded.
 */
import * as semconv from '@opentelemetry/semantic-conventions';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SHUTDOWN_BUDGET_MS } from '../src/runtimes/node/tracing.js';
import type { Env } from '../src/server/config/index.js';
import { createSealer } from '../src/server/sealing/index.js';
import { ATTR } from '../src/server/tracing.js';
import { basicAuthorization } from '../src/server/upstream/token-request.js';
import { pkceChallenge, randomToken } from '../src/shared/encoding.js';
import { type ReceivedSpan, type Receiver, startReceiver } from './helpers/otlp-receiver.js';
import { injectFault, tokenCalls } from './helpers/sandbox-control.js';
import {
  authorize,
  CLIENT_ID,
  CLIENT_SECRET,
  postForm,
  SECRET_A,
  type Stack,
  stacksClosedAfterEach,
} from './helpers/stack.js';

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

const start = stacksClosedAfterEach();
let receiver: Receiver;
beforeEach(async () => {
  receiver = await startReceiver();
});
afterEach(async () => {
  await receiver.close();
});

function tracedStack(env: Env = {}): Promise<Stack> {
  return start({
    env: {
      ENCRYPTION_SECRET: SECRET_A,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      ...env,
    },
  });
}

/** Every span the service finished so far, as the receiver decoded them. */
async function exported(stack: Stack): Promise<ReceivedSpan[]> {
  await stack.node.tracing?.flush();
  return receiver.spans();
}

const named = (spans: ReceivedSpan[], name: string) => spans.filter((span) => span.name === name);
const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan) =>
  spans.filter((span) => span.parentSpanId === parent.spanId && span.traceId === parent.traceId);

describe('traces of the token endpoints', () => {
  it('a swap and a refresh each make a server span with one client span per upstream attempt', async () => {
    const stack = await tracedStack();
    const { code } = await authorize(stack.accounts.url);
    const swap = await postForm(`${stack.service.url}/swap`, { code });
    expect(swap.status).toBe(200);
    const { refresh_token } = (await swap.json()) as { refresh_token: string };
    expect((await postForm(`${stack.service.url}/api/refresh_token`, { refresh_token })).status).toBe(200);

    const spans = await exported(stack);
    const [swapSpan] = named(spans, 'POST /swap');
    const [refreshSpan] = named(spans, 'POST /api/refresh_token');
    if (!swapSpan || !refreshSpan) throw new Error(`missing server spans: ${spans.map((s) => s.name)}`);
    expect(spans).toHaveLength(4);
    expect(swapSpan.traceId).not.toBe(refreshSpan.traceId);
    const service = new URL(stack.service.url);
    const accounts = new URL(stack.accounts.url);
    for (const [span, route, grant] of [
      [swapSpan, '/swap', 'authorization_code'],
      [refreshSpan, '/api/refresh_token', 'refresh_token'],
    ] as const) {
      expect(span.parentSpanId).toBe('');
      expect(span.kind).toBe(SERVER);
      expect(span.statusCode).toBe(0);
      expect(span.attributes).toEqual({
        'http.request.method': 'POST',
        'http.route': route,
        'http.response.status_code': 200,
        'url.scheme': 'http',
        'url.path': route,
        'server.address': '127.0.0.1',
        'server.port': Number(service.port),
        'token_swap.app': 'default',
        'token_swap.grant_type': grant,
      });
      const [upstream, ...more] = childrenOf(spans, span);
      expect(more).toEqual([]);
      expect(upstream?.name).toBe('POST');
      expect(upstream?.kind).toBe(CLIENT);
      expect(upstream?.statusCode).toBe(0);
      expect(upstream?.attributes).toEqual({
        'http.request.method': 'POST',
        'http.response.status_code': 200,
        'url.full': `${stack.accounts.url}/api/token`,
        'server.address': '127.0.0.1',
        'server.port': Number(accounts.port),
        'token_swap.app': 'default',
        'token_swap.grant_type': grant,
        'token_swap.upstream.attempt': 1,
        'token_swap.upstream.outcome': 'ok',
      });
    }
    expect(swapSpan.resource).toMatchObject({
      'service.name': 'spotify-token-swap',
      'service.version': 'test',
      'telemetry.sdk.language': 'nodejs',
    });
    expect(receiver.exports.every((e) => e.path === '/v1/traces')).toBe(true);
  });

  it('continues the trace of an incoming traceparent, and starts a new one for a malformed header', async () => {
    const stack = await tracedStack();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    await postForm(
      `${stack.service.url}/refresh`,
      { refresh_token: 'sts1.forged' },
      {
        traceparent: `00-${traceId}-${parentId}-01`,
        tracestate: 'vendor=opaque',
      },
    );
    await postForm(
      `${stack.service.url}/refresh`,
      { refresh_token: 'sts1.forged' },
      {
        traceparent: `00-${traceId}-not-a-span-id-01`,
      },
    );
    const [continued, fresh] = named(await exported(stack), 'POST /refresh');
    expect(continued).toMatchObject({ traceId, parentSpanId: parentId });
    expect(fresh?.traceId).not.toBe(traceId);
    expect(fresh?.parentSpanId).toBe('');
  });

  it('follows the caller’s sampling decision: an unsampled parent makes no span', async () => {
    const stack = await tracedStack();
    const unsampled = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';
    const { code } = await authorize(stack.accounts.url);
    expect((await postForm(`${stack.service.url}/swap`, { code }, { traceparent: unsampled })).status).toBe(
      200,
    );
    await postForm(`${stack.service.url}/refresh`, { refresh_token: 'sts1.forged' });
    expect((await exported(stack)).map((span) => span.name)).toEqual(['POST /refresh']);
  });

  it('a retried refresh has a failed first attempt and a second one that counts as a resend', async () => {
    const stack = await tracedStack();
    const { code } = await authorize(stack.accounts.url);
    const { refresh_token } = (await (await postForm(`${stack.service.url}/swap`, { code })).json()) as {
      refresh_token: string;
    };
    await injectFault(stack.accounts.url, { kind: 'status', status: 503, count: 1 });
    expect((await postForm(`${stack.service.url}/refresh`, { refresh_token })).status).toBe(200);

    const spans = await exported(stack);
    const [refresh] = named(spans, 'POST /refresh');
    if (!refresh) throw new Error('no refresh span');
    const [first, second] = childrenOf(spans, refresh).sort(
      (a, b) =>
        Number(a.attributes['token_swap.upstream.attempt']) -
        Number(b.attributes['token_swap.upstream.attempt']),
    );
    expect(first?.statusCode).toBe(ERROR);
    expect(first?.attributes).toMatchObject({
      'http.response.status_code': 503,
      'error.type': '503',
      'token_swap.upstream.outcome': 'server_error',
      'token_swap.upstream.attempt': 1,
    });
    expect(first?.attributes).not.toHaveProperty('http.request.resend_count');
    expect(second?.statusCode).toBe(0);
    expect(second?.attributes).toMatchObject({
      'http.request.resend_count': 1,
      'token_swap.upstream.attempt': 2,
      'token_swap.upstream.outcome': 'ok',
    });
    expect(second?.attributes).not.toHaveProperty('error.type');
  });

  it('a refresh answered by another request’s call has no client span and says it was coalesced', async () => {
    const stack = await tracedStack({ UPSTREAM_TIMEOUT_MS: '5000' });
    const { code } = await authorize(stack.accounts.url);
    const { refresh_token } = (await (await postForm(`${stack.service.url}/swap`, { code })).json()) as {
      refresh_token: string;
    };
    await injectFault(stack.accounts.url, { kind: 'slow', delayMs: 1_500 });
    const first = postForm(`${stack.service.url}/refresh`, { refresh_token });
    // The others arrive while the first one's call is held at the sandbox.
    await expect.poll(() => tokenCalls(stack.accounts.url)).toBe(2);
    const others = [1, 2].map(() => postForm(`${stack.service.url}/refresh`, { refresh_token }));
    for (const response of await Promise.all([first, ...others])) expect(response.status).toBe(200);

    const spans = await exported(stack);
    const refreshes = named(spans, 'POST /refresh');
    expect(refreshes).toHaveLength(3);
    const [leader, ...followers] = refreshes.sort(
      (a, b) => childrenOf(spans, b).length - childrenOf(spans, a).length,
    );
    expect(leader && childrenOf(spans, leader)).toHaveLength(1);
    expect(leader?.attributes).not.toHaveProperty('token_swap.refresh.coalesced');
    for (const follower of followers) {
      expect(childrenOf(spans, follower)).toEqual([]);
      expect(follower.attributes['token_swap.refresh.coalesced']).toBe('local');
    }
  });

  it('marks a 5xx answer as a failed server span, a refused code only on the client span', async () => {
    const stack = await tracedStack();
    await postForm(`${stack.service.url}/swap`, { code: 'AQunknown' });
    await injectFault(stack.accounts.url, { kind: 'drop' });
    await postForm(`${stack.service.url}/swap`, { code: 'AQdropped' });

    const spans = await exported(stack);
    const [refused, dropped] = named(spans, 'POST /swap');
    if (!refused || !dropped) throw new Error('missing swap spans');
    expect(refused.statusCode).toBe(0);
    expect(refused.attributes['http.response.status_code']).toBe(400);
    expect(refused.attributes).not.toHaveProperty('error.type');
    expect(childrenOf(spans, refused)[0]).toMatchObject({
      statusCode: ERROR,
      attributes: expect.objectContaining({
        'error.type': '400',
        'token_swap.upstream.outcome': 'oauth_error',
      }),
    });
    expect(dropped.statusCode).toBe(ERROR);
    expect(dropped.attributes).toMatchObject({ 'http.response.status_code': 502, 'error.type': '502' });
    const [attempt] = childrenOf(spans, dropped);
    expect(attempt?.statusCode).toBe(ERROR);
    expect(attempt?.attributes).toMatchObject({
      'error.type': 'network_error',
      'token_swap.upstream.outcome': 'network_error',
    });
    expect(attempt?.attributes).not.toHaveProperty('http.response.status_code');
  });

  it('traces the token endpoints of a named app under their route pattern, and nothing else', async () => {
    const stack = await start({
      env: {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      },
      configFile: {
        apps: {
          ios: {
            clientId: CLIENT_ID,
            clientSecret: CLIENT_SECRET,
            redirectUris: ['http://127.0.0.1:8888/callback'],
            encryptionSecrets: [SECRET_A],
          },
        },
      },
    });
    await postForm(`${stack.service.url}/apps/ios/refresh`, { refresh_token: 'sts1.forged' });
    await postForm(`${stack.service.url}/apps/nope/refresh`, { refresh_token: 'sts1.forged' });
    for (const path of ['/healthz', '/readyz', '/metrics', '/', '/no/such/path'])
      await fetch(`${stack.service.url}${path}`);
    const spans = await exported(stack);
    expect(spans.map((span) => span.name)).toEqual(['POST /apps/:app/refresh']);
    expect(spans[0]?.attributes).toMatchObject({
      'http.route': '/apps/:app/refresh',
      'url.path': '/apps/ios/refresh',
      'token_swap.app': 'ios',
      'http.response.status_code': 400,
    });
  });

  it('names a method the conventions do not know `_OTHER`, so a client cannot write into the span', async () => {
    const stack = await tracedStack();
    const request = (method: string) => fetch(`${stack.service.url}/swap`, { method });
    expect((await request('PURGE')).status).toBe(405);
    expect((await request('DELETE')).status).toBe(405);
    const spans = await exported(stack);
    expect(spans.map((span) => [span.name, span.attributes['http.request.method']])).toEqual([
      ['HTTP /swap', '_OTHER'],
      ['DELETE /swap', 'DELETE'],
    ]);
  });

  it('puts the trace and span ids on the request’s log lines', async () => {
    const stack = await tracedStack();
    await postForm(`${stack.service.url}/swap`, { code: 'AQunknown' }, { 'X-Request-Id': 'trace-log-1' });
    const [span] = named(await exported(stack), 'POST /swap');
    const lines = stack.logs.filter((line) => line.reqId === 'trace-log-1');
    expect(lines.map((line) => line.msg)).toEqual(expect.arrayContaining(['spotify token call', 'request']));
    for (const line of lines) expect(line).toMatchObject({ trace_id: span?.traceId, span_id: span?.spanId });
  });
});

describe('what the exported spans never hold', () => {
  it('no code, token, verifier, secret, query string or header value of the client reaches the collector', async () => {
    const stack = await tracedStack({ OTEL_EXPORTER_OTLP_PROTOCOL: '' });
    const verifier = randomToken(48);
    const { code } = await authorize(stack.accounts.url, {
      code_challenge: await pkceChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const clientHeaders = {
      Authorization: 'Bearer client-bearer-value',
      Cookie: 'session=client-cookie-value',
    };
    const swapped = (await (
      await postForm(
        `${stack.service.url}/swap?code=${code}`,
        { code, code_verifier: verifier },
        clientHeaders,
      )
    ).json()) as { access_token: string; refresh_token: string };
    const refreshed = (await (
      await postForm(`${stack.service.url}/refresh`, { refresh_token: swapped.refresh_token }, clientHeaders)
    ).json()) as { access_token: string };
    await postForm(`${stack.service.url}/swap`, { code });
    await stack.node.tracing?.flush();

    // The default encoding is protobuf, where every string travels as its UTF-8 bytes.
    expect(receiver.exports.length).toBeGreaterThan(0);
    expect(receiver.exports.every((e) => e.contentType === 'application/x-protobuf')).toBe(true);
    const raw = receiver.rawText();
    expect(raw).toContain('POST /swap');
    const spotifyRefreshToken = (
      await createSealer([SECRET_A], { app: 'default', clientId: CLIENT_ID }).unseal(swapped.refresh_token)
    ).grant.refreshToken;
    for (const secret of [
      code,
      verifier,
      swapped.access_token,
      swapped.refresh_token,
      spotifyRefreshToken,
      refreshed.access_token,
      CLIENT_SECRET,
      SECRET_A,
      basicAuthorization(CLIENT_ID, CLIENT_SECRET).slice('Basic '.length),
      'client-bearer-value',
      'client-cookie-value',
      `?code=`,
    ]) {
      expect(raw).not.toContain(secret);
    }
  });

  it('sends the configured export headers to the collector, and never logs them', async () => {
    const stack = await tracedStack({
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=collector%20key%2C42,x-team=swap',
    });
    await postForm(`${stack.service.url}/refresh`, { refresh_token: 'sts1.forged' });
    await stack.node.tracing?.flush();
    expect(receiver.exports[0]?.headers).toMatchObject({ 'x-api-key': 'collector key,42', 'x-team': 'swap' });
    await stack.close();
    expect(stack.rawLogs()).not.toContain('collector key');
  });
});

describe('a collector that fails', () => {
  it('is reported in the log once while it fails and once when it works again, and never fails a request', async () => {
    const stack = await tracedStack();
    const refreshOnce = async () => {
      expect((await postForm(`${stack.service.url}/refresh`, { refresh_token: 'sts1.forged' })).status).toBe(
        400,
      );
      await stack.node.tracing?.flush();
    };
    const messages = () =>
      stack.logs.map((line) => String(line.msg)).filter((msg) => msg.startsWith('trace export'));
    receiver.answerWith(400);
    for (let i = 0; i < 3; i++) await refreshOnce();
    expect(receiver.exports).toHaveLength(3);
    expect(messages()).toEqual([
      'trace export failed: spans are dropped until the OTLP endpoint accepts them',
    ]);
    expect(stack.logs.find((line) => line.msg === messages()[0])).toMatchObject({ status: 400 });
    receiver.answerWith(200);
    for (let i = 0; i < 2; i++) await refreshOnce();
    expect(messages()).toHaveLength(2);
    expect(messages()[1]).toBe('trace export works again');
  });

  it('that cannot be reached holds the shutdown up for SHUTDOWN_BUDGET_MS at most', async () => {
    const gone = await startReceiver();
    await gone.close();
    const stack = await tracedStack({ OTEL_EXPORTER_OTLP_ENDPOINT: gone.url });
    expect((await postForm(`${stack.service.url}/refresh`, { refresh_token: 'sts1.forged' })).status).toBe(
      400,
    );
    const started = performance.now();
    await stack.close();
    expect(performance.now() - started).toBeLessThan(SHUTDOWN_BUDGET_MS + 1_000);
  });
});

describe('attribute names', () => {
  it('are the ones of OpenTelemetry’s semantic conventions', () => {
    expect({
      httpRequestMethod: semconv.ATTR_HTTP_REQUEST_METHOD,
      httpRoute: semconv.ATTR_HTTP_ROUTE,
      httpResponseStatusCode: semconv.ATTR_HTTP_RESPONSE_STATUS_CODE,
      httpRequestResendCount: semconv.ATTR_HTTP_REQUEST_RESEND_COUNT,
      urlScheme: semconv.ATTR_URL_SCHEME,
      urlPath: semconv.ATTR_URL_PATH,
      urlFull: semconv.ATTR_URL_FULL,
      serverAddress: semconv.ATTR_SERVER_ADDRESS,
      serverPort: semconv.ATTR_SERVER_PORT,
      errorType: semconv.ATTR_ERROR_TYPE,
    }).toEqual(
      Object.fromEntries(Object.entries(ATTR).filter(([, name]) => !name.startsWith('token_swap.'))),
    );
  });
});

describe('traces of the Web API proxy', () => {
  it("makes a server span per allowed call named by its rule, never the request's path (ids can be personal)", async () => {
    const stack = await tracedStack({ API_PROXY_PATHS: 'GET /v1/users/{user_id}' });
    const { code } = await authorize(stack.accounts.url);
    const own = { Origin: stack.service.url, 'X-CSRF': '1' };
    const swapped = await postForm(`${stack.service.url}/session/swap`, { code }, own);
    expect(swapped.status).toBe(200);
    const cookie = swapped.headers.getSetCookie()[0]?.split(';', 1)[0] ?? '';
    const userId = 'personal-user-id-4711';
    const proxied = await fetch(`${stack.service.url}/spotify/v1/users/${userId}?market=SE`, {
      headers: { ...own, Cookie: cookie },
    });
    // The sandbox's Web API has no such user: Spotify's 404, passed back.
    expect(proxied.status).toBe(404);

    const spans = await exported(stack);
    const [span, ...more] = named(spans, 'GET /spotify/v1/users/{user_id}');
    expect(more).toEqual([]);
    const service = new URL(stack.service.url);
    expect(span?.kind).toBe(SERVER);
    expect(span?.attributes).toEqual({
      'http.request.method': 'GET',
      'http.route': '/spotify/v1/users/{user_id}',
      'http.response.status_code': 404,
      'url.scheme': 'http',
      'url.path': '/spotify/v1/users/{user_id}',
      'server.address': '127.0.0.1',
      'server.port': Number(service.port),
      'token_swap.app': 'default',
    });
    expect(JSON.stringify(spans)).not.toContain(userId);
    expect(JSON.stringify(spans)).not.toContain('market');
  });
});
