import { describe, expect, it } from 'vitest';
import { AuthorizationError } from '../../src/client/index.js';
import { startLoopbackCatcher } from '../../src/client/node/index.js';

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

  it('refuses a redirect whose state differs (CSRF) with a typed error', async () => {
    const catcher = await startLoopbackCatcher();
    const waiting = catcher.waitForCode({ state: 'expected' });
    const page = await fetch(`${catcher.redirectUri}?code=c&state=forged`);
    expect(page.status).toBe(400);
    expect((await failure(waiting)).code).toBe('state_mismatch');
    const missing = await startLoopbackCatcher();
    const waitingMissing = missing.waitForCode({ state: 'expected' });
    await fetch(`${missing.redirectUri}?code=c`);
    expect((await failure(waitingMissing)).code).toBe('state_mismatch');
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
