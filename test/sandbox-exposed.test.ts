/**
 * A sandbox that someone left open to a network: what it keeps is bounded, its bodies are limited, its
 * control endpoints answer only local clients or the control token, and its consent form cannot be
 * posted from another site. Each attack of the review, replayed over a real socket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSandbox, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } from '../src/sandbox/index.js';
import { type Listening, listen } from './helpers/listen.js';

const REDIRECT = 'http://127.0.0.1:8888/callback';
const BASIC = `Basic ${btoa(`${SANDBOX_CLIENT_ID}:${SANDBOX_CLIENT_SECRET}`)}`;
const running: Listening[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

async function start(options: Partial<Parameters<typeof createSandbox>[0]> = {}) {
  const sandbox = createSandbox({
    clients: [{ clientId: SANDBOX_CLIENT_ID, clientSecret: SANDBOX_CLIENT_SECRET, redirectUris: [REDIRECT] }],
    ...options,
  });
  const server = await listen(sandbox.app.fetch);
  running.push(server);
  return { sandbox, url: server.url };
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('a sandbox exposed to a network', () => {
  it('keeps a bounded number of grants, evicting the oldest, and says so in the mint answer', async () => {
    const { url } = await start({ maxRecordsPerKind: 100 });
    const first = (await (await post(`${url}/__sandbox/mint`, { refreshTokens: 50 })).json()) as {
      refreshTokens: string[];
      evicted: number;
    };
    expect(first.evicted).toBe(0);
    // Three more calls push the first 50 out, with the access tokens minted beside them.
    let last = { evicted: 0 };
    for (let i = 0; i < 3; i++) {
      last = (await (await post(`${url}/__sandbox/mint`, { refreshTokens: 50 })).json()) as {
        evicted: number;
      };
    }
    expect(last.evicted).toBe(100);
    const stats = (await (await fetch(`${url}/__sandbox/stats`)).json()) as { evicted: number };
    expect(stats.evicted).toBe(200);
    // An evicted token answers as an unknown one.
    const refused = await fetch(`${url}/api/token`, {
      method: 'POST',
      headers: { Authorization: BASIC, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first.refreshTokens[0] ?? '' }),
    });
    expect(await refused.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid refresh token',
    });
    // More than half the bound in one call is refused: a call's own grants must survive it.
    expect((await post(`${url}/__sandbox/mint`, { refreshTokens: 51 })).status).toBe(400);
  });

  it('keeps answering other requests while it mints a large batch', async () => {
    const { url } = await start({ maxRecordsPerKind: 20_000 });
    let done = false;
    const minting = post(`${url}/__sandbox/mint`, { refreshTokens: 10_000 }).then(() => {
      done = true;
    });
    // Bounded: as many requests as fit in the mint, one at a time. A mint that held the event loop
    // would let at most the one request that slipped in before it be answered meanwhile.
    let answered = 0;
    for (let i = 0; i < 1_000 && !done; i++) {
      await fetch(`${url}/__sandbox/stats`);
      if (!done) answered += 1;
    }
    await minting;
    expect(answered).toBeGreaterThanOrEqual(3);
  });

  it('limits request bodies as the service does: 413 JSON, connection closed', async () => {
    const { url } = await start();
    for (const path of ['/api/token', '/authorize', '/__sandbox/faults', '/__sandbox/mint']) {
      const answer = await post(`${url}${path}`, 'x'.repeat(300 * 1024));
      expect(answer.status, path).toBe(413);
      expect(await answer.json()).toMatchObject({ error: 'invalid_request' });
    }
  });

  it('lets only local clients, or the control token, use the control endpoints', async () => {
    const { url, sandbox } = await start({ peerAddress: () => '203.0.113.9' });
    const fault = { kind: 'status', status: 503, count: 1_000_000_000 };
    const refused = await post(`${url}/__sandbox/faults`, fault);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: 'forbidden' });
    expect((await fetch(`${url}/__sandbox/stats`)).status).toBe(403);
    expect((await post(`${url}/__sandbox/mint`, { refreshTokens: 1 })).status).toBe(403);
    expect(sandbox.faults.size).toBe(0);
    const allowed = await post(
      `${url}/__sandbox/faults`,
      { ...fault, count: 1 },
      {
        Authorization: `Bearer ${sandbox.controlToken}`,
      },
    );
    expect(allowed.status).toBe(204);
    expect((await post(`${url}/__sandbox/reset`, {}, { Authorization: 'Bearer wrong' })).status).toBe(403);
  });

  it('treats a loopback peer behind a proxy as remote', async () => {
    const { url } = await start();
    expect((await fetch(`${url}/__sandbox/stats`)).status).toBe(200);
    expect(
      (await fetch(`${url}/__sandbox/stats`, { headers: { 'X-Forwarded-For': '203.0.113.9' } })).status,
    ).toBe(403);
  });

  it('refuses a consent posted from another site (consent CSRF), and takes one from its own page', async () => {
    const { url } = await start();
    const form = new URLSearchParams({
      client_id: SANDBOX_CLIENT_ID,
      response_type: 'code',
      redirect_uri: REDIRECT,
      state: 's',
      decision: 'agree',
    });
    const consent = (headers: Record<string, string>) =>
      fetch(`${url}/authorize`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
        body: form,
        redirect: 'manual',
      });
    const crossSite: Record<string, string>[] = [
      { Origin: 'https://evil.example' },
      { Origin: 'null', 'Sec-Fetch-Site': 'cross-site' },
      { 'Sec-Fetch-Site': 'cross-site' },
      { Origin: url, 'Sec-Fetch-Site': 'same-site' },
    ];
    for (const headers of crossSite) {
      const refused = await consent(headers);
      expect(refused.status, JSON.stringify(headers)).toBe(403);
      expect(refused.headers.get('location')).toBeNull();
    }
    // From its own page a browser says same-origin; its Origin is null there (the page's referrer policy).
    const ownPage: Record<string, string>[] = [
      { Origin: url, 'Sec-Fetch-Site': 'same-origin' },
      { Origin: 'null', 'Sec-Fetch-Site': 'same-origin' },
      {},
    ];
    for (const headers of ownPage) {
      const agreed = await consent(headers);
      expect(agreed.status).toBe(302);
      expect(agreed.headers.get('location')).toContain('code=');
    }
  });
});
