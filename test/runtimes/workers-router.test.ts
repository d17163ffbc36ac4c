/**
 * The Worker compiles its app's router at module start and Lambda in its init phase (compileRouter,
 * src/runtimes/portable.ts), so the first request of a fresh isolate or environment does not. These
 * guard that the compiling really happens, and that the app answers as before once it has.
 */
import { describe, expect, it } from 'vitest';
import { buildApp, compileRouter } from '../../src/runtimes/portable.js';
import { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, SECRET_A } from '../helpers/stack.js';

function app() {
  const built = buildApp({
    SPOTIFY_CLIENT_ID: CLIENT_ID,
    SPOTIFY_CLIENT_SECRET: CLIENT_SECRET,
    SPOTIFY_REDIRECT_URI: REDIRECT_URI,
    ENCRYPTION_SECRET: SECRET_A,
    LOG_LEVEL: 'silent',
  });
  if (!('app' in built)) throw built.error;
  return built.app;
}

describe('the Worker router compiled at module start', () => {
  it('leaves the router compiled, before any request', () => {
    const served = app();
    expect(served.router.name).toBe('SmartRouter');
    compileRouter(served);
    // SmartRouter names the router it settled on once it has compiled one.
    expect(served.router.name).toBe('SmartRouter + RegExpRouter');
    expect(() => served.get('/late', (c) => c.text(''))).toThrow();
  });

  it('answers found, unknown and wrong-method paths as an uncompiled app does', async () => {
    const compiled = app();
    compileRouter(compiled);
    const requests = [
      new Request('http://127.0.0.1/healthz'),
      new Request('http://127.0.0.1/no-such-path'),
      new Request('http://127.0.0.1/healthz', { method: 'DELETE' }),
      new Request('http://127.0.0.1/refresh', { method: 'GET' }),
    ];
    for (const request of requests) {
      const [expected, actual] = await Promise.all([app().fetch(request.clone()), compiled.fetch(request)]);
      expect({ status: actual.status, body: await actual.json() }).toEqual({
        status: expected.status,
        body: await expected.json(),
      });
    }
  });
});
