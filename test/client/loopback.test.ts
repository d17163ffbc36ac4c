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
    const page = await fetch(`${catcher.redirectUri}?code=AQcode&state=the-state`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('You can close this window');
    expect(await waiting).toEqual({ code: 'AQcode' });
  });

  it('closes itself after one use', async () => {
    const catcher = await startLoopbackCatcher();
    const waiting = catcher.waitForCode({ state: 's' });
    await fetch(`${catcher.redirectUri}?code=c&state=s`);
    await waiting;
    await expect(fetch(`${catcher.redirectUri}?code=c&state=s`)).rejects.toThrow();
  });

  it('answers only GET on the callback path; other requests do not end the wait', async () => {
    const catcher = await startLoopbackCatcher({ callbackPath: '/cb' });
    const waiting = catcher.waitForCode({ state: 's' });
    expect((await fetch(catcher.redirectUri.replace('/cb', '/favicon.ico'))).status).toBe(404);
    expect((await fetch(`${catcher.redirectUri}?code=c&state=s`, { method: 'POST' })).status).toBe(404);
    await fetch(`${catcher.redirectUri}?code=c&state=s`);
    expect(await waiting).toEqual({ code: 'c' });
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
    const catcher = await startLoopbackCatcher();
    await fetch(`${catcher.redirectUri}?code=early&state=s`);
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
