/**
 * Issue 12's proof, for the service and the sandbox: each attack of the review replayed against a
 * running `token-swap serve --sandbox` process (and `token-swap sandbox`, and a multi-app `token-swap
 * serve` for point 9), each getting a clear JSON error or the documented behaviour, with `/healthz`
 * answering quickly after every one. The CLI's points (5, 6, 14-18) are in attack-replay-cli.test.ts.
 * Every attack is a bounded number of requests; the regression tests named in each case hold the detail.
 *
 * Every point applies to a running process. Parts that a bounded replay cannot show, and where they are
 * covered instead:
 * - 2: the review's requests ran 10.3-12 s; here a 1.5 s one is in flight at SIGTERM. That the default
 *   grace is longer than the longest request is test/config.test.ts ('derives the shutdown grace').
 *   Replayed last, as it ends the process.
 * - 3: Redis unreachable (the other shared dependency) needs a Redis to kill: test/redis.test.ts.
 * - 10: the 16-last-characters form needs a token length this sandbox's grants never seal to (see the
 *   case): test/sealing.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { emptyDir } from './helpers/cli.js';
import { waitForStdout } from './helpers/cli-stdout.js';
import { startForwardingProxy } from './helpers/forwarding-proxy.js';
import {
  expectHealthy,
  expectJsonError,
  keepAlive,
  parseRaw,
  rawRequest,
  rssMiB,
  type Spawned,
  spawnServer,
  stop,
} from './helpers/replay.js';

const REDIRECT_URI = 'http://127.0.0.1:8888/callback';
const SWAP_LINE = /Swap service\s+(http:\/\/\S+)/;
const json = { 'Content-Type': 'application/json' };
/** The budget of refreshes per minute and client address in this run (point 1). */
const REFRESH_BUDGET = 5;

let serve: Spawned;
/** The embedded sandbox of `serve`. */
let accounts: string;
/** Every /healthz latency measured, for the report of the longest. */
const healthMs: number[] = [];

beforeAll(async () => {
  serve = await spawnServer(['serve', '--sandbox'], SWAP_LINE, {
    env: {
      LOG_LEVEL: 'debug',
      TRUST_PROXY: '1',
      RATE_LIMIT_REFRESH_PER_MINUTE: String(REFRESH_BUDGET),
      RATE_LIMIT_SWAP_PER_MINUTE: '0',
      // Case 3 must read /readyz while the breaker is still open, six local requests after it opens:
      // 1 s leaves room for a stall of the machine (200 ms left about 185).
      BREAKER_COOLDOWN_MS: '1000',
    },
  });
  accounts = `${serve.url}/sandbox`;
}, 30_000);
afterEach(async () => {
  if (serve.run.child.exitCode === null) healthMs.push(await expectHealthy(serve.url));
});
afterAll(async () => {
  await stop(serve);
  // Printed, not asserted beyond HEALTHY_WITHIN_MS: the number the proof reports.
  console.log(`attack replay: longest /healthz ${Math.round(Math.max(...healthMs))} ms`);
});

/** A client the service sees at `address` (TRUST_PROXY=1 here), so each attack spends its own budget. */
const from = (address: string) => ({ 'X-Forwarded-For': address });

/** Codes minted straight into the sandbox, from this machine (the control endpoints let it in). */
async function mintCode(base: string, scopes: string[] = []): Promise<string> {
  const answer = await fetch(`${base}/__sandbox/mint`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ codes: 1, redirectUri: REDIRECT_URI, scopes }),
  });
  expect(answer.status).toBe(200);
  return ((await answer.json()) as { codes: [string] }).codes[0];
}

async function tokenCalls(base: string): Promise<number> {
  return ((await (await fetch(`${base}/__sandbox/stats`)).json()) as { tokenRequests: number }).tokenRequests;
}

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields),
});

async function swap(prefix: string, code: string, headers: Record<string, string> = {}) {
  const answer = await fetch(`${serve.url}${prefix}/swap`, {
    ...form({ code, redirect_uri: REDIRECT_URI }),
    headers: { ...form({}).headers, ...headers },
  });
  return answer;
}

async function injectFault(fault: unknown) {
  const answer = await fetch(`${accounts}/__sandbox/faults`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify(fault),
  });
  expect(answer.status).toBe(204);
}

describe('the service, under each attack of issue 12', () => {
  // Regression tests: test/rate-limit.test.ts.
  it('1: X-Forwarded-For entries with a source port share one budget (rate-limit bypass)', async () => {
    const statuses: number[] = [];
    for (let port = 40_001; port <= 40_000 + REFRESH_BUDGET + 2; port++) {
      const answer = await fetch(`${serve.url}/refresh`, {
        ...form({ refresh_token: 'sts2.not-a-sealed-token' }),
        headers: { ...form({}).headers, ...from(`203.0.113.7:${port}`) },
      });
      statuses.push(answer.status);
      if (answer.status === 429) await expectJsonError(answer, 429, 'rate_limited');
      else await expectJsonError(answer, 400, 'invalid_grant');
    }
    expect(statuses).toEqual([...Array(REFRESH_BUDGET).fill(400), 429, 429]);
  });

  // Regression tests: test/node-server.test.ts.
  it.each([
    ['an Expect other than 100-continue', 'POST /swap HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n', 417],
    ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['a Host header with a space', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 400],
    ['POST /swap\\', 'POST /swap\\ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n', 400],
    ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n', 400],
  ])('4: %s gets a JSON error, not Node’s own answer', async (_, bytes, status) => {
    const answer = parseRaw(await rawRequest(serve.url, bytes));
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.body).toMatchObject({ error: 'invalid_request', error_description: expect.any(String) });
  });

  // Regression tests: test/resilience.test.ts ('counts timeouts but never OAuth 4xx').
  it('7: answers from Spotify that are 4xx but not OAuth errors do not open the breaker', async () => {
    await injectFault({
      kind: 'status',
      status: 404,
      body: 'Not Found',
      contentType: 'text/plain',
      count: 6,
    });
    for (let i = 0; i < 6; i++) {
      const answer = await swap('', 'AQnot-a-code', from('198.51.100.7'));
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(await answer.json()).toMatchObject({ error: expect.any(String) });
    }
    const ready = (await (await fetch(`${serve.url}/readyz`)).json()) as { status: string };
    expect(ready.status).toBe('ready');
    expect((await swap('', await mintCode(accounts))).status).toBe(200);
  });

  // Regression tests: test/redis.test.ts, test/node-server.test.ts (readiness).
  it('3: an open breaker (shared by every replica) leaves /readyz at 200 degraded, not 503', async () => {
    await injectFault({ kind: 'status', status: 503, count: 10 });
    for (let i = 0; i < 10; i++) await swap('', 'AQbroken-upstream', from('198.51.100.3'));
    const ready = await fetch(`${serve.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'degraded', checks: { upstream: { ok: false } } });
    await fetch(`${accounts}/__sandbox/faults`, { method: 'DELETE' });
    // The breaker closes after its cooldown (1 s here) and a probe that succeeds: polled until a
    // deadline, not for a count of tries (100 quick tries took 212 to 432 ms on a loaded machine, which
    // a cooldown of 200 ms, as before, came close to; a fast machine would finish them first).
    await expect
      .poll(async () => (await swap('', await mintCode(accounts))).status, { timeout: 10_000, interval: 20 })
      .toBe(200);
  });

  // Regression tests: test/params.test.ts, test/service.test.ts.
  it('8: JSON bodies with a repeated key or a non-string value are refused, never forwarded', async () => {
    const before = await tokenCalls(accounts);
    for (const body of ['{"code":"a","code":"b"}', '{"code":{"a":1}}', '{"code":12345}']) {
      const answer = await fetch(`${serve.url}/swap`, { method: 'POST', headers: json, body });
      await expectJsonError(answer, 400, 'invalid_request');
    }
    const refresh = await fetch(`${serve.url}/refresh`, {
      method: 'POST',
      headers: { ...json, ...from('198.51.100.8') },
      body: '{"refresh_token":["sts2.a","sts2.b"]}',
    });
    await expectJsonError(refresh, 400, 'invalid_request');
    expect(await tokenCalls(accounts)).toBe(before);
  });

  // Regression tests: test/sealing.test.ts ('refuse a non-canonical encoding of a valid token').
  it('10: non-canonical encodings of a valid sealed token are refused, without calling Spotify', async () => {
    // The standard-alphabet variants need a `-` and a `_` in the token: a random body of this length
    // (336 characters) lacks one about one time in a hundred, 2 x (63/64)^336 (the CI failure of
    // 2026-12-03), so swap again until it has both.
    const hasBoth = (token: string) => token.includes('-') && token.includes('_');
    let sealed = '';
    for (let tries = 0; tries < 20 && !hasBoth(sealed); tries++) {
      const swapped = await swap('', await mintCode(accounts));
      sealed = ((await swapped.json()) as { refresh_token: string }).refresh_token;
    }
    expect(hasBoth(sealed), 'a sealed token with both - and _ within 20 swaps').toBe(true);
    const body = sealed.slice('sts2.'.length);
    const variants = [`${sealed}=`, `${sealed}==`, sealed.replace('-', '+'), sealed.replace('_', '/')];
    // The review's form, 16 last characters for one token, needs a length that leaves unused bits in
    // the last character; this sandbox's grants seal to whole base64 quanta, which leave none, so the
    // unit test above replays that one with a token of another length. Here: when there are some.
    const unused = { 2: 4, 3: 2 }[body.length % 4] ?? 0;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(body.at(-1) ?? '');
    for (let bits = 1; bits < 2 ** unused; bits++)
      variants.push(`${sealed.slice(0, -1)}${alphabet[last ^ bits]}`);
    expect(new Set(variants).size, 'every variant differs from the token').toBe(variants.length);
    expect(variants).not.toContain(sealed);
    const before = await tokenCalls(accounts);
    for (const [i, variant] of variants.entries()) {
      // Each from its own address, so that no variant meets the rate limit instead of the check.
      const answer = await fetch(`${serve.url}/refresh`, {
        method: 'POST',
        headers: { ...json, ...from(`198.51.100.${20 + i}`) },
        body: JSON.stringify({ refresh_token: variant }),
      });
      expect(answer.status, variant.slice(-8)).toBe(400);
      expect(await answer.json()).toMatchObject({ error: 'invalid_grant' });
    }
    expect(await tokenCalls(accounts)).toBe(before);
    // The token itself still opens.
    const refreshed = await fetch(`${serve.url}/refresh`, {
      method: 'POST',
      headers: { ...json, ...from('198.51.100.11') },
      body: JSON.stringify({ refresh_token: sealed }),
    });
    expect(refreshed.status).toBe(200);
  });
});

describe('the embedded sandbox, exposed', () => {
  // Regression tests: test/sandbox-exposed.test.ts, test/sandbox-mint.test.ts.
  it('11: huge mints are refused, the biggest allowed ones evict the oldest, bodies are capped', async () => {
    for (let i = 0; i < 3; i++) {
      const answer = await fetch(`${accounts}/__sandbox/mint`, {
        method: 'POST',
        headers: json,
        body: '{"refreshTokens":500000}',
      });
      await expectJsonError(answer, 400, 'invalid_mint');
    }
    // Three of the biggest mints allowed (half the bound each), /healthz polled meanwhile: bounded.
    const rssBefore = rssMiB(serve.run.child.pid);
    let evicted = 0;
    const during: number[] = [];
    for (let i = 0; i < 3; i++) {
      let done = false;
      const minting = fetch(`${accounts}/__sandbox/mint`, {
        method: 'POST',
        headers: json,
        body: '{"refreshTokens":50000}',
      }).then(async (answer) => {
        done = true;
        return (await answer.json()) as { refreshTokens: string[]; evicted: number };
      });
      // Before the fix a call of 500000 held the event loop for 15-35 s. Measured here: under 1 s on a
      // busy two-core machine; 2 s leaves room for a machine busier still, and still catches a block.
      for (let polls = 0; polls < 200 && !done; polls++) during.push(await expectHealthy(serve.url, 2_000));
      const minted = await minting;
      expect(minted.refreshTokens).toHaveLength(50_000);
      evicted += minted.evicted;
    }
    expect(evicted).toBeGreaterThanOrEqual(50_000);
    const rssAfter = rssMiB(serve.run.child.pid);
    // Printed for the report; the bounds that can fail are asserted below and in expectHealthy.
    console.log(
      `attack replay 11: RSS ${rssBefore} -> ${rssAfter} MiB over 3 mints of 50000; /healthz meanwhile: ${during.length} polls, longest ${Math.round(Math.max(0, ...during))} ms`,
    );
    // Before the fix, each call of this size grew RSS by ~400 MB and the third died (issue 12).
    expect(rssAfter).toBeLessThan(rssBefore + 400);
    const big = await fetch(`${accounts}/api/token`, { method: 'POST', body: 'x'.repeat(1024 * 1024) });
    await expectJsonError(big, 413, 'invalid_request');
  }, 90_000);

  // Regression tests: test/sandbox-exposed.test.ts, test/readme.test.ts (the README's example).
  it('12: faults from another machine are refused without the printed control token', async () => {
    expect(serve.controlToken).toMatch(/^[\w-]{32}$/);
    expect(serve.run.stderr()).toContain(`Authorization: Bearer ${serve.controlToken}`);
    const proxy = await startForwardingProxy(serve.url);
    try {
      const faults = `${proxy.url}/sandbox/__sandbox/faults`;
      const body = JSON.stringify({ kind: 'status', status: 503, count: 1_000_000_000 });
      for (const authorization of [undefined, 'Bearer wrong', `Bearer ${serve.controlToken}x`]) {
        const headers = { ...json, ...(authorization ? { Authorization: authorization } : {}) };
        await expectJsonError(await fetch(faults, { method: 'POST', headers, body }), 403, 'forbidden');
      }
      const allowed = await fetch(faults, { headers: { Authorization: `Bearer ${serve.controlToken}` } });
      expect(allowed.status).toBe(200);
      expect(await allowed.json()).toEqual([]);
    } finally {
      await proxy.close();
    }
    expect((await swap('', await mintCode(accounts))).status).toBe(200);
  });

  // Regression tests: test/sandbox-exposed.test.ts.
  it('13: a consent posted from another site gets a 403 page and no code', async () => {
    const consent = new URLSearchParams({
      client_id: 'sandbox-client-id',
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      state: 's',
      decision: 'agree',
    });
    const post = (headers: Record<string, string>) =>
      fetch(`${accounts}/authorize`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
        body: consent,
        redirect: 'manual',
      });
    const refused = await post({ Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('location')).toBeNull();
    expect(await refused.text()).not.toContain('code=');
    // curl, which sends neither header, is the user (the README's sandbox section).
    const own = await post({});
    expect(own.status).toBe(302);
    expect(own.headers.get('location')).toMatch(/code=/);
  });
});

describe('token-swap sandbox, on its own', () => {
  let sandbox: Spawned;
  beforeAll(async () => {
    sandbox = await spawnServer(['sandbox'], /listening on (http:\/\/\S+)/, { env: { LOG_LEVEL: 'debug' } });
  }, 30_000);
  afterAll(async () => {
    expect(await stop(sandbox)).toEqual({ code: 0, signal: null });
  });

  // Regression tests: test/sandbox-exposed.test.ts.
  it('12: its control endpoints answer another machine only with the control token it printed', async () => {
    expect(sandbox.controlToken).toMatch(/^[\w-]{32}$/);
    expect(sandbox.controlToken).not.toBe(serve.controlToken);
    const proxy = await startForwardingProxy(sandbox.url);
    try {
      const stats = `${proxy.url}/__sandbox/stats`;
      await expectJsonError(await fetch(stats), 403, 'forbidden');
      const allowed = await fetch(stats, { headers: { Authorization: `Bearer ${sandbox.controlToken}` } });
      expect(allowed.status).toBe(200);
    } finally {
      await proxy.close();
    }
  });

  // Regression tests: test/sealing.test.ts ('binds the app name and the client id'), test/multi-app.test.ts.
  it('9: two apps with the same credentials and sealing secret refuse each other’s tokens', async () => {
    const cwd = emptyDir();
    const app = {
      clientId: 'sandbox-client-id',
      clientSecret: 'sandbox-client-secret-not-for-production',
      redirectUris: [REDIRECT_URI],
      encryptionSecrets: ['one-sealing-secret-for-both-apps-0123456789'],
      accountsUrl: sandbox.url,
    };
    writeFileSync(join(cwd, 'token-swap.config.json'), JSON.stringify({ apps: { ios: app, web: app } }));
    const service = await spawnServer(['serve'], /listening on (http:\/\/\S+)/, { cwd });
    try {
      const swapped = await fetch(
        `${service.url}/apps/ios/swap`,
        form({ code: await mintCode(sandbox.url), redirect_uri: REDIRECT_URI }),
      );
      const { refresh_token } = (await swapped.json()) as { refresh_token: string };
      const before = await tokenCalls(sandbox.url);
      const elsewhere = await fetch(`${service.url}/apps/web/refresh`, form({ refresh_token }));
      await expectJsonError(elsewhere, 400, 'invalid_grant');
      expect(await tokenCalls(sandbox.url)).toBe(before);
      expect((await fetch(`${service.url}/apps/ios/refresh`, form({ refresh_token }))).status).toBe(200);
      await expectHealthy(service.url);
    } finally {
      expect(await stop(service)).toEqual({ code: 0, signal: null });
    }
  }, 30_000);

  it('keeps the control token out of every log line, at debug level', () => {
    expect(sandbox.run.stdout()).toContain('"msg":"sandbox listening"');
    expect(sandbox.run.stdout()).not.toContain(sandbox.controlToken);
  });
});

describe('the control token of serve --sandbox', () => {
  it('is in no log line, at debug level, after requests that carried it', () => {
    expect(serve.run.stdout()).toMatch(/"path":"\/sandbox\/__sandbox\/faults","status":200/);
    expect(serve.run.stdout()).not.toContain(serve.controlToken);
  });
});

// Regression tests: test/node-server.test.ts ('draining'), test/config.test.ts (SHUTDOWN_GRACE_MS).
describe('2: SIGTERM while a slow request is in flight', () => {
  it('finishes the request, answers an idle keep-alive connection with Connection: close, exits 0', async () => {
    healthMs.push(await expectHealthy(serve.url));
    const idle = await keepAlive(serve.url);
    expect((await idle.get('/healthz')).headers.connection).not.toBe('close');
    const code = await mintCode(accounts);
    await injectFault({ kind: 'slow', delayMs: 1_500, count: 1 });
    const before = await tokenCalls(accounts);
    const inFlight = swap('', code);
    // Polled, bounded: the slow exchange has reached the sandbox.
    for (let i = 0; i < 200 && (await tokenCalls(accounts)) === before; i++);
    serve.run.child.kill('SIGTERM');
    await waitForStdout(serve.run, /shutting down: finishing in-flight requests/);
    // A request on a connection that was idle when draining began: answered, and told to close.
    const late = await idle.get('/healthz');
    expect(late.headers.connection).toBe('close');
    expect(late.headers['content-type']).toMatch(/^application\/json/);
    idle.close();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ access_token: expect.any(String) });
    expect(await serve.run.exited).toEqual({ code: 0, signal: null });
  }, 30_000);
});
