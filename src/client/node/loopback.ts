/**
 * The loopback redirect catcher (RFC 8252 §7.3): a one-shot HTTP server on 127.0.0.1 that receives
 * the browser's redirect from /authorize, shows the user how the login ended, and closes itself.
 *
 * Anything on this machine can reach the port, and so can a page of any site whose name an attacker
 * points at 127.0.0.1 (DNS rebinding). So only the login's own redirect ends the wait: one sent to
 * the address and port the catcher listens on (`Host`) with the `state` of the authorize URL
 * (compared in constant time). Anything else gets a 400 page and the wait goes on, until its timeout.
 * Nothing is kept per refused request, so a flood of them costs no memory.
 *
 * One module, a little over the size budget: the server, its checks and the pages it shows are one
 * security boundary, and reading it whole is how it is reviewed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthorizationError } from '../errors.js';
import {
  answer,
  type HeldPage,
  holdPage,
  NEUTRAL,
  NOT_THIS_LOGIN,
  NOT_WAITING,
  page,
  wrongHostPage,
} from './loopback-pages.js';

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
  /**
   * Resolves with the code of the login's redirect (its `state` matches), or rejects with an
   * AuthorizationError: an `error` on that redirect, the timeout, or the abort. Other requests do
   * not end the wait.
   */
  waitForCode(options: WaitOptions): Promise<{ code: string }>;
  /**
   * Shows the browser how the login ended, once the code has been swapped (or failed to be).
   * A redirect with a code is held until then, so the page never says "Logged in" too early; a
   * redirect with an `error` is answered at once. `message` is a sentence, shown as text.
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
/** Redirects kept while nobody waits yet (waitForCode not called); more are asked to come back. */
const MAX_EARLY_REDIRECTS = 8;
/** A browser opens a few connections; more at once is a flood, dropped by Node before any parsing. */
const MAX_CONNECTIONS = 64;
/** RFC 6749 §4.1.2.1 `error`: printable ASCII without `"` and `\`; anything else is not shown. */
const ERROR_CODE = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,128}$/;

/** Constant-time comparison; hashing first makes the lengths equal and hides the expected one. */
function safeEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b)) && a.length === b.length;
}

type Outcome = { code: string } | AuthorizationError;

/** What the login's own redirect says: a code, or why there is none. */
function outcomeOf(params: URLSearchParams): Outcome {
  const error = params.get('error');
  if (error === 'access_denied') {
    return new AuthorizationError('access_denied', 'The user cancelled the login', error);
  }
  if (error !== null) {
    // The message reaches a terminal: an error code that is not one is not repeated.
    return ERROR_CODE.test(error)
      ? new AuthorizationError('authorization_error', `Spotify refused the authorization: ${error}`, error)
      : new AuthorizationError('authorization_error', 'Spotify refused the authorization');
  }
  const code = params.get('code');
  if (!code) {
    return new AuthorizationError('invalid_callback', 'The redirect carried neither a code nor an error');
  }
  return { code };
}

export async function startLoopbackCatcher(options: LoopbackOptions = {}): Promise<LoopbackCatcher> {
  const host = options.host ?? '127.0.0.1';
  const literal = host === '::1' ? '[::1]' : host;
  const callbackPath = options.callbackPath ?? '/callback';
  const resultTimeoutMs = options.resultTimeoutMs ?? DEFAULT_RESULT_TIMEOUT_MS;
  let outcome: Outcome | undefined;
  let settle: ((outcome: Outcome) => void) | undefined;
  let expectedState: string | undefined;
  /** The login's redirect, its answer held until the outcome is known. */
  let held: HeldPage | undefined;
  /** Redirects that came before waitForCode, judged once the state to check is known. */
  const early: { params: URLSearchParams; page: HeldPage }[] = [];
  /** Requests refused for their state or their Host, for the timeout's message. */
  let refused = 0;
  /** The Host values of this catcher's own address, and how a page names it (known once it listens). */
  let ownHosts = new Set<string>();
  let ownAddress = '';

  /** Ends the wait; a refusal is shown to the browser at once, a code's page waits for showResult. */
  const finish = (result: Outcome) => {
    if (outcome) return;
    outcome = result;
    settle?.(result);
    if (result instanceof AuthorizationError) {
      const body = page('Login failed', `${result.message}. You can close this window.`, 'failed');
      // Closed once the page is out, so that the browser is not cut off mid-answer.
      if (held?.send(400, body, () => void close())) return;
    }
    void close();
  };

  /** A redirect to this catcher's address, once the state is known: the login's own, or refused. */
  const consider = (params: URLSearchParams, page: () => HeldPage, refuse: (body: string) => void) => {
    const state = params.get('state');
    if (outcome || state === null || expectedState === undefined || !safeEqual(state, expectedState)) {
      refused += 1;
      refuse(NOT_THIS_LOGIN);
      return;
    }
    held = page();
    finish(outcomeOf(params));
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', `http://${literal}`);
    if (request.method !== 'GET' || url.pathname !== callbackPath || outcome) {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found');
      return;
    }
    // The browser names the address it was sent to; a rebound name is another site's page.
    if (!ownHosts.has(request.headers.host?.toLowerCase() ?? '')) {
      refused += 1;
      answer(response, 400, wrongHostPage(ownAddress));
      return;
    }
    if (expectedState === undefined) {
      if (early.length >= MAX_EARLY_REDIRECTS) return answer(response, 503, NOT_WAITING);
      early.push({ params: url.searchParams, page: holdPage(response, resultTimeoutMs) });
      return;
    }
    consider(
      url.searchParams,
      () => holdPage(response, resultTimeoutMs),
      (body) => answer(response, 400, body),
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.maxConnections = MAX_CONNECTIONS;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  ownAddress = `${literal}:${port}`;
  // A browser leaves out the default port.
  ownHosts = new Set(port === 80 ? [ownAddress, literal] : [ownAddress]);
  const redirectUri = `http://${literal}:${port}${callbackPath}`;

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
      held?.send(
        ok ? 200 : 500,
        ok
          ? page('Logged in', `${message} You can close this window and go back to your terminal.`, 'ok')
          : page('Login failed', `${message} You can close this window.`, 'failed'),
      );
    },
    async close() {
      held?.send(200, NEUTRAL);
      for (const { page } of early.splice(0)) page.send(200, NEUTRAL);
      await close();
    },
    waitForCode({ state, timeoutMs = DEFAULT_LOGIN_TIMEOUT_MS, signal }) {
      expectedState = state;
      const result = new Promise<{ code: string }>((resolve, reject) => {
        const timer = setTimeout(() => {
          const others =
            refused === 0
              ? ''
              : ` (${refused} other request${refused === 1 ? ' was' : 's were'} refused: another state, or another address)`;
          finish(
            new AuthorizationError(
              'timeout',
              `No redirect arrived within ${Math.round(timeoutMs / 1000)} s${others}`,
            ),
          );
        }, timeoutMs);
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
        // The redirect may beat waitForCode(): those that came are judged now, in order.
        else
          for (const { params, page } of early.splice(0)) {
            consider(
              params,
              () => page,
              (body) => page.send(400, body),
            );
          }
      });
      // The caller may still be opening the browser when the redirect fails; the rejection must not
      // count as unhandled meanwhile (Node would end the process). Awaiting `result` still throws.
      result.catch(() => {});
      return result;
    },
  };
}
