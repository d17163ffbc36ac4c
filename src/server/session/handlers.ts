/**
 * The session endpoints of the token-mediating backend (docs/sessions.md, the IETF browser-apps BCP):
 * the page gets access tokens, and the sealed refresh token lives in an HttpOnly cookie (cookie.ts).
 * Each one runs the token endpoints' own steps (endpoints/tokens.ts: sealing, the login's lifetime,
 * rotation, revocation, coalescing) and only moves the refresh token between their answer and the
 * cookie, so a session is exactly as safe as a /swap, /refresh and /revoke client.
 */
import { jsonResponse } from '../answer.js';
import type { AppConfig } from '../config/index.js';
import type { ProofInput } from '../endpoints/dpop.js';
import type { TokenHandlers } from '../endpoints/tokens.js';
import { errorResponse, OAuthError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RequestSpan } from '../tracing.js';
import {
  COOKIE_ATTRIBUTES,
  COOKIE_NAME,
  type CookieSealer,
  clearedCookie,
  createCookieSealer,
  readSessionCookie,
  type SessionContents,
  sessionCookie,
} from './cookie.js';

/** A cached access token is handed out again while it has more than this left (docs/sessions.md). */
export const CACHED_TOKEN_MIN_SECONDS = 60;

export interface SessionHandlers {
  swap(request: Request, log: Logger, span?: RequestSpan): Promise<Response>;
  token(request: Request, log: Logger, span?: RequestSpan): Promise<Response>;
  logout(request: Request, log: Logger): Promise<Response>;
}

/** No session cookie, or one that does not open: the page must sign in again. */
export const loginRequired = () =>
  new OAuthError(401, 'login_required', 'No session: sign in again (POST /session/swap)');

/** An app without sealing secrets hands out Spotify's own refresh tokens: there is no key for a cookie. */
export const sessionUnavailable = (what = 'Session endpoints') =>
  new OAuthError(
    501,
    'session_unavailable',
    `${what} need sealing: this app has ENCRYPTION_SECRET=none (see docs/sessions.md)`,
  );

/**
 * An app with DPOP=required promises that every login of it is bound to a key the client holds; a
 * session's login lives in the cookie instead (docs/sessions.md, "DPoP"), so such an app has none,
 * rather than a way around its own rule.
 */
export const sessionsNeedNoDpop = () =>
  new OAuthError(
    501,
    'session_unavailable',
    'Session endpoints are off for this app: DPOP=required binds every login to a DPoP key, and a session keeps its login in a cookie instead (see docs/sessions.md)',
  );

/**
 * What a session request proves: nothing. The cookie binds its login to the browser; a `DPoP` header
 * on it (a proof for another URL, say, on a proxied call) is not read, so no login of a session is
 * ever bound to a key no later call of it would prove (docs/sessions.md, "DPoP").
 */
function noProof(request: Request): ProofInput {
  return { header: undefined, method: request.method, url: request.url };
}

function withoutProofHeader(request: Request): Request {
  if (!request.headers.has('dpop')) return request;
  const headers = new Headers(request.headers);
  headers.delete('dpop');
  return new Request(request, { headers });
}

/** Every session endpoint's answer for an app that cannot have sessions. */
function refusing(refusal: () => OAuthError): SessionHandlers {
  const refuse = async () => errorResponse(refusal());
  return { swap: refuse, token: refuse, logout: refuse };
}

/**
 * What start-up says about the session endpoints: the cookie and its attributes, the same on
 * http://127.0.0.1 and localhost as on https (Chromium keeps `__Host-` and `Secure` on loopback,
 * which it treats as potentially trustworthy: test/session-browser.test.ts), and the apps that have
 * none for want of sealing.
 */
export function sessionNotice(apps: readonly AppConfig[]): {
  fields: Record<string, unknown>;
  message: string;
} {
  const unsealed = apps.filter((app) => app.encryptionSecrets.length === 0).map((app) => app.name);
  const dpopRequired = apps.filter((app) => app.dpop === 'required').map((app) => app.name);
  return {
    fields: {
      cookieName: COOKIE_NAME,
      attributes: COOKIE_ATTRIBUTES,
      ...(unsealed.length > 0 ? { unsealed } : {}),
      ...(dpopRequired.length > 0 ? { dpopRequired } : {}),
    },
    message: `session endpoints: cookie ${COOKIE_NAME}; ${COOKIE_ATTRIBUTES}, also on http://127.0.0.1 and localhost, where browsers keep them; any other host needs https${unsealed.length > 0 ? '; apps that do not seal answer them 501' : ''}${dpopRequired.length > 0 ? '; apps with DPOP=required answer them 501' : ''}`,
  };
}

interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  refresh_token_expires_in?: number;
}

const isTokenBody = (body: unknown): body is TokenBody =>
  typeof body === 'object' &&
  body !== null &&
  typeof (body as TokenBody).access_token === 'string' &&
  typeof (body as TokenBody).token_type === 'string' &&
  typeof (body as TokenBody).expires_in === 'number';

async function isInvalidGrant(response: Response): Promise<boolean> {
  if (response.status !== 400) return false;
  const body: unknown = await response.clone().json();
  return typeof body === 'object' && body !== null && (body as { error?: unknown }).error === 'invalid_grant';
}

/** What the cookie holds after a token answer; undefined when there is no refresh token to keep. */
function sessionContents(
  body: TokenBody,
  previous: SessionContents | undefined,
  now: number,
): SessionContents | undefined {
  const refreshToken = body.refresh_token ?? previous?.refreshToken;
  if (refreshToken === undefined) return undefined;
  const access: NonNullable<SessionContents['access']> = {
    token: body.access_token,
    tokenType: body.token_type,
    expiresAt: now + body.expires_in,
  };
  if (body.scope !== undefined) access.scope = body.scope;
  const left = body.refresh_token_expires_in;
  const loginEnd = left === undefined ? previous?.loginEnd : now + left;
  return loginEnd === undefined ? { refreshToken, access } : { refreshToken, access, loginEnd };
}

function withCookie(response: Response, setCookie: string): Response {
  const headers = new Headers(response.headers);
  headers.append('Set-Cookie', setCookie);
  return new Response(response.body, { status: response.status, headers });
}

export function createSessionHandlers(
  app: AppConfig,
  handlers: TokenHandlers,
  options: { now?: () => number } = {},
): SessionHandlers | undefined {
  if (app.encryptionSecrets.length === 0) return undefined;
  if (app.dpop === 'required') return refusing(sessionsNeedNoDpop);
  const sealer: CookieSealer = createCookieSealer(app.encryptionSecrets, {
    app: app.name,
    clientId: app.clientId,
  });
  const nowSeconds = () => Math.floor((options.now ?? Date.now)() / 1000);

  /**
   * A token endpoint's answer turned into a session's: the refresh token (the new one, or the one the
   * cookie had) goes into the cookie with the access token, and the page gets the rest.
   */
  async function intoSession(response: Response, previous: SessionContents | undefined): Promise<Response> {
    if (response.status !== 200) return response;
    const body: unknown = await response.json();
    if (!isTokenBody(body)) throw new TypeError('a token endpoint answered 200 without a token response');
    const { refresh_token: _inCookie, ...forPage } = body;
    const headers = new Headers(response.headers);
    const now = nowSeconds();
    const contents = sessionContents(body, previous, now);
    if (contents) {
      const maxAge = contents.loginEnd === undefined ? undefined : contents.loginEnd - now;
      headers.append('Set-Cookie', sessionCookie(await sealer.seal(contents), maxAge));
    }
    return new Response(JSON.stringify(forPage), { status: 200, headers });
  }

  const presented = async (request: Request) => {
    const value = readSessionCookie(request.headers.get('cookie') ?? undefined);
    return value === undefined ? undefined : sealer.open(value);
  };

  /** The cached access token, while it has more than a minute left: a reload costs no Spotify call. */
  function cached(contents: SessionContents): Response | undefined {
    const { access } = contents;
    const now = nowSeconds();
    if (!access || access.expiresAt - now <= CACHED_TOKEN_MIN_SECONDS) return undefined;
    return jsonResponse(200, {
      access_token: access.token,
      token_type: access.tokenType,
      expires_in: access.expiresAt - now,
      ...(access.scope === undefined ? {} : { scope: access.scope }),
      ...(contents.loginEnd === undefined
        ? {}
        : { refresh_token_expires_in: Math.max(0, contents.loginEnd - now) }),
    });
  }

  return {
    async swap(request, log, span) {
      return intoSession(await handlers.swap(withoutProofHeader(request), log, span), undefined);
    },

    async token(request, log, span) {
      const contents = await presented(request);
      if (!contents) return withCookie(errorResponse(loginRequired()), clearedCookie());
      const grant = { refreshToken: contents.refreshToken, proof: noProof(request) };
      const fresh = cached(contents);
      if (fresh) {
        // A login revoked or ended elsewhere (reuse detected, its end reached) keeps no cached token:
        // one store read, no Spotify call.
        const refused = await handlers.grants.refreshRefusal(grant, log);
        if (refused) return (await isInvalidGrant(refused)) ? withCookie(refused, clearedCookie()) : refused;
        return fresh;
      }
      const response = await handlers.grants.refreshToken(grant, log, span);
      // invalid_grant: the login was revoked, ended or reused, and no retry will bring it back.
      if (await isInvalidGrant(response)) return withCookie(response, clearedCookie());
      return intoSession(response, contents);
    },

    async logout(request, log) {
      const contents = await presented(request);
      if (!contents) return withCookie(jsonResponse(200, {}), clearedCookie());
      const params = new Map<string, unknown[]>([['token', [contents.refreshToken]]]);
      // Cleared whatever the answer: the user asked to be signed out of this browser. Without a login
      // store the answer is revocation's 501, which says the refresh token itself was not revoked.
      const response = await handlers.grants.revoke(params, log, noProof(request));
      return withCookie(response, clearedCookie());
    },
  };
}
