/**
 * The loopback redirect catcher (RFC 8252 §7.3): a one-shot HTTP server on 127.0.0.1 that receives
 * the browser's redirect from /authorize, checks `state` in constant time, shows the user how the
 * login ended, and closes itself.
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
  /**
   * How long the browser's page waits for `showResult` after a redirect with a code, before it
   * says to look in the terminal instead. Default 30 s: a swap, and a profile call, in time.
   */
  resultTimeoutMs?: number;
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
  /**
   * Shows the browser how the login ended, once the code has been swapped (or failed to be).
   * A redirect with a code is held until then, so the page never says "Logged in" too early; a
   * refused redirect (state, error) is answered at once. `message` is a sentence, shown as text.
   */
  showResult(result: { ok: boolean; message: string }): void;
  /**
   * Stops listening (also happens by itself after one redirect, a timeout or an abort). A page still
   * waiting for `showResult` is told to look in the terminal.
   */
  close(): Promise<void>;
}

export const DEFAULT_LOGIN_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_RESULT_TIMEOUT_MS = 30_000;

/** Constant-time comparison; hashing first makes the lengths equal and hides the expected one. */
function safeEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b)) && a.length === b.length;
}

type Tone = 'ok' | 'failed' | 'neutral';
const COLOURS: Record<Tone, string> = { ok: '#1ed760', failed: '#f15e6c', neutral: '#b3b3b3' };

function page(title: string, message: string, tone: Tone): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;background:#121212;color:#eee}
main{max-width:28rem;padding:2rem;border-radius:12px;background:#1e1e1e;text-align:center}
h1{font-size:1.3rem;color:${COLOURS[tone]}}</style></head>
<body><main><h1 id="result">${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></main></body></html>`;
}

function answer(response: ServerResponse, status: number, body: string, then?: () => void): void {
  response.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    'Referrer-Policy': 'no-referrer',
    Connection: 'close',
  });
  response.end(body, then);
}

const NEUTRAL = page(
  'Finishing in the terminal',
  'The login continues in your terminal: look there for the result. You can close this window.',
  'neutral',
);

type Outcome = { code: string } | AuthorizationError;

export async function startLoopbackCatcher(options: LoopbackOptions = {}): Promise<LoopbackCatcher> {
  const host = options.host ?? '127.0.0.1';
  const callbackPath = options.callbackPath ?? '/callback';
  const resultTimeoutMs = options.resultTimeoutMs ?? DEFAULT_RESULT_TIMEOUT_MS;
  let outcome: Outcome | undefined;
  let settle: ((outcome: Outcome) => void) | undefined;
  let expectedState: string | undefined;
  /** The first redirect; any later request is not for us. */
  let received: URL | undefined;
  /** The browser's answer, held until the outcome is known. */
  let held: { response: ServerResponse; timer: NodeJS.Timeout } | undefined;

  const release = (status: number, body: string, then?: () => void) => {
    if (!held) return;
    const { response, timer } = held;
    held = undefined;
    clearTimeout(timer);
    answer(response, status, body, then);
  };

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

  /** Ends the wait; a refusal is shown to the browser at once, a code's page waits for showResult. */
  const finish = (result: Outcome) => {
    if (outcome) return;
    outcome = result;
    settle?.(result);
    if (result instanceof AuthorizationError && held) {
      const body = page('Login failed', `${result.message}. You can close this window.`, 'failed');
      // Closed once the page is out, so that the browser is not cut off mid-answer.
      release(400, body, () => void close());
    } else {
      void close();
    }
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', `http://${host === '::1' ? '[::1]' : host}`);
    if (request.method !== 'GET' || url.pathname !== callbackPath || received || outcome) {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found');
      return;
    }
    received = url;
    // Bounded: a caller that never calls showResult still gets the browser an honest page.
    held = { response, timer: setTimeout(() => release(200, NEUTRAL), resultTimeoutMs) };
    // The redirect may beat waitForCode(): then it is judged once the state to check is known.
    if (expectedState !== undefined) finish(judge(url));
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
      // Stops accepting at once; a held page keeps its connection open until it is answered.
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    return closed;
  }

  return {
    redirectUri,
    port,
    showResult({ ok, message }) {
      release(
        ok ? 200 : 500,
        ok
          ? page('Logged in', `${message} You can close this window and go back to your terminal.`, 'ok')
          : page('Login failed', `${message} You can close this window.`, 'failed'),
      );
    },
    async close() {
      release(200, NEUTRAL);
      await close();
    },
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
        else if (outcome) settle(outcome);
        else if (received) finish(judge(received));
      });
      // The caller may still be opening the browser when the redirect fails; the rejection must not
      // count as unhandled meanwhile (Node would end the process). Awaiting `result` still throws.
      result.catch(() => {});
      return result;
    },
  };
}
