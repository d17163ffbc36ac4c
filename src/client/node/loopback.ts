/**
 * The loopback redirect catcher (RFC 8252 §7.3): a one-shot HTTP server on 127.0.0.1 that receives
 * the browser's redirect from /authorize, checks `state` in constant time, shows the user a short
 * page, and closes itself.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { escapeHtml } from '../../shared/html.js';
import { AuthorizationError } from '../errors.js';

export interface LoopbackOptions {
  /** 0 (default) picks a free port; Spotify matches a loopback URI registered without a port on any port. */
  port?: number;
  /** `127.0.0.1` (default) or `::1`; never `localhost`, which Spotify refuses. */
  host?: '127.0.0.1' | '::1';
  /** Default `/callback`. */
  callbackPath?: string;
}

export interface WaitOptions {
  /** The `state` sent to /authorize. */
  state: string;
  /** Default 5 minutes: a person has to read and click. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface LoopbackCatcher {
  /** `http://127.0.0.1:PORT/callback`: put it on the authorize URL. */
  readonly redirectUri: string;
  readonly port: number;
  /** Resolves with the code of the first redirect, or rejects with an AuthorizationError. */
  waitForCode(options: WaitOptions): Promise<{ code: string }>;
  /** Stops listening (also happens by itself after one redirect, a timeout or an abort). */
  close(): Promise<void>;
}

export const DEFAULT_LOGIN_TIMEOUT_MS = 5 * 60_000;

/** Constant-time comparison; hashing first makes the lengths equal and hides the expected one. */
function safeEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b)) && a.length === b.length;
}

function page(title: string, message: string, ok: boolean): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;background:#121212;color:#eee}
main{max-width:28rem;padding:2rem;border-radius:12px;background:#1e1e1e;text-align:center}
h1{font-size:1.3rem;color:${ok ? '#1ed760' : '#f15e6c'}}</style></head>
<body><main><h1 id="result">${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></main></body></html>`;
}

type Outcome = { code: string } | AuthorizationError;

export async function startLoopbackCatcher(options: LoopbackOptions = {}): Promise<LoopbackCatcher> {
  const host = options.host ?? '127.0.0.1';
  const callbackPath = options.callbackPath ?? '/callback';
  let outcome: Outcome | undefined;
  let settle: ((outcome: Outcome) => void) | undefined;
  let expectedState: string | undefined;
  let pending: URL | undefined;

  const judge = (url: URL): Outcome => {
    const params = url.searchParams;
    const state = params.get('state');
    if (state === null || expectedState === undefined || !safeEqual(state, expectedState)) {
      return new AuthorizationError(
        'state_mismatch',
        'The redirect carried a different state than the one sent: possible cross-site request forgery, or an old browser tab',
      );
    }
    const error = params.get('error');
    if (error === 'access_denied') {
      return new AuthorizationError('access_denied', 'The user cancelled the login', error);
    }
    if (error !== null) {
      return new AuthorizationError(
        'authorization_error',
        `Spotify refused the authorization: ${error}`,
        error,
      );
    }
    const code = params.get('code');
    if (!code) {
      return new AuthorizationError('invalid_callback', 'The redirect carried neither a code nor an error');
    }
    return { code };
  };

  const finish = (result: Outcome) => {
    if (outcome) return;
    outcome = result;
    settle?.(result);
    void close();
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', `http://${host === '::1' ? '[::1]' : host}`);
    if (request.method !== 'GET' || url.pathname !== callbackPath || outcome) {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found');
      return;
    }
    if (expectedState === undefined) {
      // The redirect beat waitForCode(): keep it until the state to check it against is known.
      pending = url;
    }
    const result = expectedState === undefined ? undefined : judge(url);
    const ok = result !== undefined && !(result instanceof AuthorizationError);
    const body =
      result === undefined || ok
        ? page('Logged in', 'You can close this window and go back to your terminal.', true)
        : page('Login failed', `${result.message}. You can close this window.`, false);
    response.writeHead(ok || result === undefined ? 200 : 400, {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
      'Referrer-Policy': 'no-referrer',
      Connection: 'close',
    });
    response.end(body, () => {
      if (result) finish(result);
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const redirectUri = `http://${host === '::1' ? '[::1]' : host}:${port}${callbackPath}`;

  let closed: Promise<void> | undefined;
  function close(): Promise<void> {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    return closed;
  }

  return {
    redirectUri,
    port,
    close,
    waitForCode({ state, timeoutMs = DEFAULT_LOGIN_TIMEOUT_MS, signal }) {
      expectedState = state;
      const result = new Promise<{ code: string }>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            finish(
              new AuthorizationError(
                'timeout',
                `No redirect arrived within ${Math.round(timeoutMs / 1000)} s`,
              ),
            ),
          timeoutMs,
        );
        const onAbort = () => finish(new AuthorizationError('aborted', 'The login was aborted'));
        signal?.addEventListener('abort', onAbort, { once: true });
        settle = (result) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (result instanceof AuthorizationError) reject(result);
          else resolve(result);
        };
        if (signal?.aborted) onAbort();
        else if (pending) finish(judge(pending));
        else if (outcome) settle(outcome);
      });
      // The caller may still be opening the browser when the redirect fails; the rejection must not
      // count as unhandled meanwhile (Node would end the process). Awaiting `result` still throws.
      result.catch(() => {});
      return result;
    },
  };
}
