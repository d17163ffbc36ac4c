import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSwapClient,
  processSwapResponse,
  SwapServiceError,
  SwapServiceUnreachableError,
} from '../../src/client/index.js';
import { MAX_SWAP_RESPONSE_BYTES } from '../../src/client/swap-client.js';
import { injectFault } from '../helpers/sandbox-control.js';
import { authorize, REDIRECT_URI, type Stack, startStack, UNSEALED } from '../helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: UNSEALED });
});
afterAll(() => stack.close());

async function rejection(promise: Promise<unknown>) {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('swap client against the service and the sandbox', () => {
  it('swaps a code with redirect_uri and code_verifier, then refreshes', async () => {
    const client = createSwapClient({ swapUrl: `${stack.service.url}/` });
    const { code } = await authorize(stack.accounts.url);
    const tokens = await client.swap(code, { redirectUri: REDIRECT_URI });
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(tokens.refresh_token).toBeTruthy();
    const refreshed = await client.refresh(tokens.refresh_token ?? '');
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed).not.toHaveProperty('refresh_token');
  });

  it('carries error, description, status and retryAfter of a refusal', async () => {
    const client = createSwapClient({ swapUrl: stack.service.url });
    const refused = await rejection(client.swap('AQnot-a-code'));
    expect(refused).toBeInstanceOf(SwapServiceError);
    expect(refused).toMatchObject({
      error: 'invalid_grant',
      errorDescription: 'Invalid authorization code',
      status: 400,
      retryAfter: undefined,
    });
    await injectFault(stack.accounts.url, { kind: 'rate-limit', retryAfter: 9 });
    const limited = await rejection(client.refresh('AQwhatever'));
    expect(limited).toMatchObject({ error: 'rate_limited', status: 429, retryAfter: 9 });
  });

  it('keeps the raw response out of enumerable properties, so logging the error leaks nothing', async () => {
    const client = createSwapClient({ swapUrl: stack.service.url });
    const error = (await rejection(client.refresh('AQsecret-token-value'))) as SwapServiceError;
    expect(error.response).toBeInstanceOf(Response);
    expect(Object.keys(error)).not.toContain('response');
  });

  it('reports an unreachable service', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await rejection(createSwapClient({ swapUrl: `http://127.0.0.1:${port}` }).refresh('x'));
    expect(error).toBeInstanceOf(SwapServiceUnreachableError);
    expect((error as SwapServiceUnreachableError).code).toBe('unreachable');
  });

  it('times out on a service that never answers, and honours an abort signal', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const swapUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const timedOut = await rejection(createSwapClient({ swapUrl, timeoutMs: 200 }).refresh('x'));
      expect((timedOut as SwapServiceUnreachableError).code).toBe('timeout');
      const controller = new AbortController();
      // Aborted once the request is at the service, so the abort ends a call that is really waiting.
      silent.once('request', () => controller.abort());
      const pending = createSwapClient({ swapUrl }).refresh('x', { signal: controller.signal });
      expect(((await rejection(pending)) as SwapServiceUnreachableError).code).toBe('aborted');
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('processSwapResponse', () => {
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'Content-Type': 'application/json', ...headers },
    });

  it('accepts a numeric string expires_in and defaults token_type and scope', async () => {
    expect(await processSwapResponse(json(200, { access_token: 'a', expires_in: '60' }))).toEqual({
      access_token: 'a',
      token_type: 'Bearer',
      expires_in: 60,
      scope: '',
    });
  });

  it('turns HTML and malformed successes into invalid_response', async () => {
    const html = await rejection(processSwapResponse(new Response('<h1>Bad gateway</h1>', { status: 502 })));
    expect(html).toMatchObject({ error: 'invalid_response', status: 502 });
    const partial = await rejection(processSwapResponse(json(200, { token_type: 'Bearer' })));
    expect(partial).toMatchObject({ error: 'invalid_response', status: 200 });
  });

  it('reads Retry-After as the service reads it: whole seconds, a date as the seconds until then, at most a day', async () => {
    const retryAfter = async (value: string) =>
      (
        (await rejection(
          processSwapResponse(json(503, { error: 'temporarily_unavailable' }, { 'Retry-After': value })),
        )) as SwapServiceError
      ).retryAfter;
    expect(await retryAfter('2.5')).toBe(3);
    expect(await retryAfter(new Date(Date.now() + 3_600_000 * 48).toUTCString())).toBe(86_400);
    const error = await rejection(processSwapResponse(json(503, { error: 'temporarily_unavailable' })));
    expect(error).toMatchObject({
      error: 'temporarily_unavailable',
      retryAfter: undefined,
      errorDescription: undefined,
    });
  });

  it('refuses what the service checks on Spotify: an empty token, a bad lifetime, control characters', async () => {
    for (const body of [
      { access_token: '', expires_in: 60 },
      { access_token: 'a', expires_in: -1 },
      { access_token: 'a', expires_in: 1.5 },
      { access_token: 'a', expires_in: 1e306 },
      { access_token: 'a\u001b]8;;', expires_in: 60 },
      { access_token: 'a', expires_in: 60, refresh_token: 'r\nr' },
    ]) {
      expect(await rejection(processSwapResponse(json(200, body)))).toMatchObject({
        error: 'invalid_response',
      });
    }
  });
});

describe('a hostile or broken swap service', () => {
  /** A raw node:http server on loopback for the duration of one test. */
  async function server(handle: (request: IncomingMessage, response: ServerResponse) => void) {
    const s = createServer(handle);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
      close: async () => {
        s.closeAllConnections();
        await new Promise((resolve) => s.close(resolve));
      },
    };
  }

  it('stops reading an endless body at the cap, with a clear error (unbounded response bodies)', async () => {
    let written = 0;
    const endless = await server((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = Buffer.alloc(256 * 1024, 0x61);
      const write = () => {
        // Bounded: 64 MiB at most, should the client never stop reading.
        while (written < 64 * 2 ** 20 && !response.destroyed) {
          written += chunk.length;
          if (!response.write(chunk)) return response.once('drain', write);
        }
        response.end();
      };
      write();
    });
    try {
      const error = await rejection(createSwapClient({ swapUrl: endless.url }).refresh('AQx'));
      expect(error).toMatchObject({ name: 'SwapServiceError', error: 'invalid_response' });
      expect((error as SwapServiceError).errorDescription).toContain(`over ${MAX_SWAP_RESPONSE_BYTES} bytes`);
      // The client hung up long before the server could send what it meant to.
      expect(written).toBeLessThan(64 * 2 ** 20);
    } finally {
      await endless.close();
    }
  });

  it('refuses a declared length over the cap without reading it', async () => {
    const huge = await server((_request, response) => {
      response.writeHead(200, {
        'Content-Type': 'application/json',
        'Content-Length': String(300 * 2 ** 20),
      });
      response.write('{"access_token":"');
    });
    try {
      const error = await rejection(createSwapClient({ swapUrl: huge.url }).swap('AQcode'));
      expect(error).toMatchObject({ error: 'invalid_response' });
    } finally {
      await huge.close();
    }
  });

  it('never follows a redirect with the secret in the body, nor takes tokens from its target', async () => {
    const received: string[] = [];
    const elsewhere = await server((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push(body);
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(
          JSON.stringify({ access_token: 'stolen', token_type: 'Bearer', expires_in: 3600, scope: '' }),
        );
      });
    });
    const redirecting = await server((_request, response) => {
      response.writeHead(307, { Location: `${elsewhere.url}/swap` });
      response.end();
    });
    try {
      for (const status of ['swap', 'refresh'] as const) {
        const client = createSwapClient({ swapUrl: redirecting.url });
        const call =
          status === 'swap'
            ? client.swap('AQcode', { codeVerifier: 'v'.repeat(43) })
            : client.refresh('AQrt');
        const error = await rejection(call);
        expect(error).toMatchObject({ name: 'SwapServiceError', error: 'invalid_response', status: 307 });
        expect((error as SwapServiceError).errorDescription).toContain('redirect');
      }
      expect(received).toEqual([]);
    } finally {
      await redirecting.close();
      await elsewhere.close();
    }
  });
});
