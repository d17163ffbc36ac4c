import { request } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AuthorizationError } from '../../src/client/index.js';
import { startLoopbackCatcher } from '../../src/client/node/index.js';

/** A GET with the Host header a browser would send for `host` (fetch always sends the URL's own). */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Everything the catcher answers to one request written as is, up to the end of the connection. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

/** Whether `promise` has settled by the time the event loop has run what is queued now. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

async function failure(promise: Promise<unknown>): Promise<AuthorizationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthorizationError);
  return error as AuthorizationError;
}

describe('loopback redirect catcher', () => {
  it('listens on 127.0.0.1 with an ephemeral port and returns the code when state matches', async () => {
    const catcher = await startLoopbackCatcher();
    expect(catcher.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(catcher.port).toBeGreaterThan(0);
    const waiting = catcher.waitForCode({ state: 'the-state' });
    const page = fetch(`${catcher.redirectUri}?code=AQcode&state=the-state`);
    expect(await waiting).toEqual({ code: 'AQcode' });
    catcher.showResult({ ok: true, message: 'Logged in as Sandbox User (sandbox-1).' });
    const answer = await page;
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await answer.text();
    expect(html).toContain('<h1 id="result">Logged in</h1>');
    expect(html).toContain('Logged in as Sandbox User (sandbox-1). You can close this window');
  });

  it("the loopback page says 'Logged in' only once the caller reports it, and what failed otherwise", async () => {
    const catcher = await startLoopbackCatcher();
    const waiting = catcher.waitForCode({ state: 's' });
    const page = fetch(`${catcher.redirectUri}?code=AQcode&state=s`);
    // The state check passed and the code is out, but the swap has not happened yet: it fails.
    await waiting;
    catcher.showResult({
      ok: false,
      message: 'The swap service refused the request (invalid_grant: <b>Invalid redirect URI</b>).',
    });
    const answer = await page;
    const html = await answer.text();
    expect(answer.status).toBe(500);
    expect(html).toContain('<h1 id="result">Login failed</h1>');
    expect(html).toContain('(invalid_grant: &lt;b&gt;Invalid redirect URI&lt;/b&gt;).');
    expect(html).not.toContain('Logged in');
    expect(answer.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'unsafe-inline'",
    );
    expect(answer.headers.get('referrer-policy')).toBe('no-referrer');
    expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  it('shows a neutral page when no outcome is reported in time, or the catcher is closed first', async () => {
    const slow = await startLoopbackCatcher({ resultTimeoutMs: 50 });
    const waiting = slow.waitForCode({ state: 's' });
    const page = fetch(`${slow.redirectUri}?code=c&state=s`);
    await waiting;
    const html = await (await page).text();
    expect(html).toContain('<h1 id="result">Finishing in the terminal</h1>');
    expect(html).not.toContain('Logged in');
    // Too late: the page has its answer already.
    slow.showResult({ ok: true, message: 'Logged in as someone.' });

    const closing = await startLoopbackCatcher();
    const closingWait = closing.waitForCode({ state: 's' });
    const closingPage = fetch(`${closing.redirectUri}?code=c&state=s`);
    await closingWait;
    await closing.close();
    expect(await (await closingPage).text()).toContain('Finishing in the terminal');
  });

  it('closes itself after one use', async () => {
    const catcher = await startLoopbackCatcher();
    const waiting = catcher.waitForCode({ state: 's' });
    const page = fetch(`${catcher.redirectUri}?code=c&state=s`);
    await waiting;
    catcher.showResult({ ok: true, message: 'Logged in.' });
    expect((await page).status).toBe(200);
    await expect(fetch(`${catcher.redirectUri}?code=c&state=s`)).rejects.toThrow();
  });

  it('answers only GET on the callback path; other requests do not end the wait', async () => {
    const catcher = await startLoopbackCatcher({ callbackPath: '/cb' });
    const waiting = catcher.waitForCode({ state: 's' });
    expect((await fetch(catcher.redirectUri.replace('/cb', '/favicon.ico'))).status).toBe(404);
    expect((await fetch(`${catcher.redirectUri}?code=c&state=s`, { method: 'POST' })).status).toBe(404);
    const page = fetch(`${catcher.redirectUri}?code=c&state=s`);
    expect(await waiting).toEqual({ code: 'c' });
    await catcher.close();
    await page;
  });

  it('a redirect with another state, or none, gets a 400 page and does not end the login (loopback CSRF abort)', async () => {
    const catcher = await startLoopbackCatcher();
    const waiting = catcher.waitForCode({ state: 'expected' });
    for (const query of [
      '?code=c&state=forged',
      '?code=c',
      '?error=access_denied&state=forged',
      '?state=expecte',
    ]) {
      const page = await fetch(`${catcher.redirectUri}${query}`);
      expect(page.status, query).toBe(400);
      expect(await page.text(), query).toContain('<h1 id="result">Not this login</h1>');
    }
    expect(await settled(waiting)).toBe(false);
    // The login's own redirect still ends it.
    const page = fetch(`${catcher.redirectUri}?code=AQreal&state=expected`);
    expect(await waiting).toEqual({ code: 'AQreal' });
    catcher.showResult({ ok: true, message: 'Logged in.' });
    expect((await page).status).toBe(200);
  });

  it('a request under another Host name gets a 400 page and does not end the login (DNS rebinding)', async () => {
    const catcher = await startLoopbackCatcher();
    const waiting = catcher.waitForCode({ state: 's' });
    const url = `${catcher.redirectUri}?code=c&state=s`;
    // A rebound name, a name for this machine, another port: not what the browser was sent to.
    for (const host of [
      `evil.example:${catcher.port}`,
      `localhost:${catcher.port}`,
      '127.0.0.1:1',
      '127.0.0.1',
    ]) {
      const answer = await getWithHost(url, host);
      expect(answer.status, host).toBe(400);
      expect(answer.body, host).toContain(`This address answers only as 127.0.0.1:${catcher.port}.`);
    }
    // HTTP/1.0 may leave Host out; the catcher does not take that either.
    const bare = await rawRequest(catcher.port, 'GET /callback?code=c&state=s HTTP/1.0\r\n\r\n');
    expect(bare).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*This address answers only as/);
    expect(await settled(waiting)).toBe(false);
    const page = getWithHost(url, `127.0.0.1:${catcher.port}`);
    expect(await waiting).toEqual({ code: 'c' });
    await catcher.close();
    expect((await page).status).toBe(200);
  });

  it('answers a flood of wrong requests one by one, and the login still ends the wait', async () => {
    const catcher = await startLoopbackCatcher();
    const waiting = catcher.waitForCode({ state: 's', timeoutMs: 60_000 });
    // Bounded: 400 wrong requests, 20 at a time.
    for (let round = 0; round < 20; round++) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          i % 2 === 0
            ? fetch(`${catcher.redirectUri}?code=c&state=wrong-${round}-${i}`).then((r) => r.status)
            : getWithHost(`${catcher.redirectUri}?code=c&state=s`, 'rebound.example').then((r) => r.status),
        ),
      );
      expect(new Set(answers)).toEqual(new Set([400]));
    }
    const page = fetch(`${catcher.redirectUri}?code=c&state=s`);
    expect(await waiting).toEqual({ code: 'c' });
    await catcher.close();
    await page;
  });

  it('says in the timeout how many requests it refused meanwhile', async () => {
    const catcher = await startLoopbackCatcher();
    const waiting = catcher.waitForCode({ state: 's', timeoutMs: 300 });
    await fetch(`${catcher.redirectUri}?code=c&state=forged`);
    await getWithHost(`${catcher.redirectUri}?code=c&state=s`, 'evil.example');
    const error = await failure(waiting);
    expect(error.code).toBe('timeout');
    expect(error.message).toBe(
      'No redirect arrived within 0 s (2 other requests were refused: another state, or another address)',
    );
  });

  it('keeps at most 8 redirects that come before waitForCode, and judges them in order then', async () => {
    const catcher = await startLoopbackCatcher({ resultTimeoutMs: 0 });
    // Neutral pages at once (no result wait), so each one's arrival is known.
    for (let i = 0; i < 7; i++) await fetch(`${catcher.redirectUri}?code=forged&state=forged-${i}`);
    await fetch(`${catcher.redirectUri}?code=real&state=s`);
    const ninth = await fetch(`${catcher.redirectUri}?code=late&state=s`);
    expect(ninth.status).toBe(503);
    expect(await ninth.text()).toContain('The login is not waiting for a redirect yet.');
    expect(await catcher.waitForCode({ state: 's' })).toEqual({ code: 'real' });
  });

  it('does not repeat an error code that is not one (it would reach the terminal)', async () => {
    const catcher = await startLoopbackCatcher();
    const waiting = catcher.waitForCode({ state: 's' });
    await fetch(`${catcher.redirectUri}?error=${encodeURIComponent('x\u001b]0;owned\u0007\nok')}&state=s`);
    const error = await failure(waiting);
    expect([error.code, error.error, error.message]).toEqual([
      'authorization_error',
      undefined,
      'Spotify refused the authorization',
    ]);
  });

  it('reports access_denied when the user cancels, and other errors as authorization_error', async () => {
    const catcher = await startLoopbackCatcher();
    const waiting = catcher.waitForCode({ state: 's' });
    await fetch(`${catcher.redirectUri}?error=access_denied&state=s`);
    expect((await failure(waiting)).code).toBe('access_denied');
    const other = await startLoopbackCatcher();
    const waitingOther = other.waitForCode({ state: 's' });
    await fetch(`${other.redirectUri}?error=invalid_scope&state=s`);
    const error = await failure(waitingOther);
    expect([error.code, error.error]).toEqual(['authorization_error', 'invalid_scope']);
  });

  it('times out, and honours an abort signal, closing the port either way', async () => {
    const slow = await startLoopbackCatcher();
    expect((await failure(slow.waitForCode({ state: 's', timeoutMs: 100 }))).code).toBe('timeout');
    await expect(fetch(`${slow.redirectUri}?state=s&code=c`)).rejects.toThrow();

    const aborted = await startLoopbackCatcher();
    const controller = new AbortController();
    const waiting = aborted.waitForCode({ state: 's', signal: controller.signal });
    controller.abort();
    expect((await failure(waiting)).code).toBe('aborted');
  });

  it('keeps a redirect that arrives before waitForCode and judges it then', async () => {
    // No result wait: the page is answered (neutrally) on arrival, which tells the test it arrived.
    const catcher = await startLoopbackCatcher({ resultTimeoutMs: 0 });
    const page = await fetch(`${catcher.redirectUri}?code=early&state=s`);
    expect(await page.text()).toContain('Finishing in the terminal');
    expect(await catcher.waitForCode({ state: 's' })).toEqual({ code: 'early' });
  });

  it('binds to a given port', async () => {
    const first = await startLoopbackCatcher();
    const port = first.port;
    await first.close();
    const catcher = await startLoopbackCatcher({ port });
    expect(catcher.redirectUri).toBe(`http://127.0.0.1:${port}/callback`);
    await catcher.close();
  });
});
