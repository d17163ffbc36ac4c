/**
 * The Web API proxy (backend-for-frontend) on one base of the token endpoints (the root, or
 * `/apps/:app`): `{base}/spotify/v1/...` forwards a request its app allows (config/api-proxy.ts) to
 * the Web API with the access token of the request's session cookie, taken exactly as
 * `POST /session/token` takes it (a cached one, else a refresh that updates the cookie). The session
 * endpoints' CSRF and origin check and credentialed CORS apply (session/guard.ts). docs/sessions.md
 * says why each piece is there.
 */
import type { Context, Handler, Hono, MiddlewareHandler } from 'hono';
import {
  type ApiProxyRule,
  type AppConfig,
  DEFAULT_API_URL,
  matchProxyRule,
  PROXY_METHODS,
} from '../config/index.js';
import { API_PROXY, APPS_PATH } from '../contract.js';
import { errorResponse, notFound, OAuthError } from '../errors.js';
import { bodyLimit } from '../middleware/body-limit.js';
import { budgeted } from '../middleware/rate-limit.js';
import { sessionGuard } from '../session/guard.js';
import { sessionUnavailable } from '../session/handlers.js';
import type { Env } from '../token-routes.js';
import { ATTR, endRequestSpan, type RequestSpan, requestSpanStart, type Tracing } from '../tracing.js';
import { type ApiFetch, forward } from './forward.js';

const PROXY_PATH = API_PROXY.path;

export interface ProxyRouteOptions {
  selectApp: MiddlewareHandler<Env>;
  /** The proxy's own rate budget (token-routes.ts says why it is its own). */
  budget: MiddlewareHandler;
  publicUrl: string | undefined;
  fetch: ApiFetch;
  tracing?: Tracing | undefined;
}

const notAllowed = () =>
  errorResponse(
    new OAuthError(
      403,
      'path_not_allowed',
      "This method and path are not on the app's Web API proxy allowlist (API_PROXY_PATHS)",
    ),
  );

interface TokenAnswer {
  access_token?: unknown;
  token_type?: unknown;
}

/** The session's access token as /session/token hands it out, or that endpoint's refusal as it is. */
async function accessToken(
  c: Context<Env>,
): Promise<{ authorization: string; setCookies: string[] } | { refused: Response }> {
  const session = c.get('served').session;
  if (!session)
    return { refused: errorResponse(sessionUnavailable('The Web API proxy and the session endpoints')) };
  const answer = await session.token(c.req.raw, c.get('log'), c.get('span'));
  if (answer.status !== 200) return { refused: answer };
  const body = (await answer.json()) as TokenAnswer;
  if (typeof body.access_token !== 'string' || typeof body.token_type !== 'string') {
    throw new TypeError('the session answered 200 without an access token');
  }
  return {
    authorization: `${body.token_type} ${body.access_token}`,
    setCookies: answer.headers.getSetCookie(),
  };
}

/**
 * A server span for one allowed call, begun once its rule is known: its route and path are the
 * rule's (`/spotify/v1/artists/{id}`), never the request's, whose ids can be personal (the log line's
 * rule). The session's refresh, when there is one, is its child.
 */
function proxySpan(c: Context<Env>, tracing: Tracing, rule: { route: string; path: string }): RequestSpan {
  const app = { grant: undefined, name: c.get('served').config.name };
  const { name, attributes } = requestSpanStart(c.req.raw, rule.route, app);
  const span = tracing.startRequest(
    name,
    { ...attributes, [ATTR.urlPath]: rule.path },
    {
      traceparent: c.req.header('traceparent'),
      tracestate: c.req.header('tracestate'),
    },
  );
  c.set('span', span);
  return span;
}

export function mountApiProxy(app: Hono<Env>, base: string, options: ProxyRouteOptions): void {
  // The app's own prefix, as a request spells it (`:app` is a pattern, not a path).
  const prefixOf = (c: Context<Env>) =>
    base === '' ? PROXY_PATH : `${APPS_PATH}/${c.get('served').config.name}${PROXY_PATH}`;
  const rulesOf = (c: Context<Env>): readonly ApiProxyRule[] => c.get('served').config.apiProxyPaths ?? [];
  // An app without an allowlist has no proxy at all: its prefix is as unknown as any other path.
  const enabled: MiddlewareHandler<Env> = async (c, next) =>
    rulesOf(c).length === 0 ? errorResponse(notFound()) : next();
  const guard = sessionGuard({
    allowedOrigins: (c: Context<Env>) => c.get('served').corsOrigins,
    publicUrl: options.publicUrl,
    methods: PROXY_METHODS,
  });
  const limitBody = bodyLimit({ maxBytes: API_PROXY.maxBodyBytes });

  const proxied: Handler<Env> = async (c) => {
    const url = new URL(c.req.url);
    // The path as it arrived (still percent-encoded), so what is matched is exactly what is sent on.
    const prefix = prefixOf(c);
    if (!url.pathname.startsWith(`${prefix}/`)) return notAllowed();
    const path = url.pathname.slice(prefix.length);
    const rule = matchProxyRule(rulesOf(c), c.req.method, path);
    if (!rule) return notAllowed();
    const span =
      options.tracing &&
      proxySpan(c, options.tracing, {
        route: `${base}${PROXY_PATH}${rule.path}`,
        path: `${prefix}${rule.path}`,
      });
    // A call that throws is answered 500 by the error handler: the span says so.
    let status = 500;
    try {
      const response = await call(c, rule, `${path}${url.search}`);
      status = response.status;
      return response;
    } finally {
      if (span) endRequestSpan(span, status);
    }
  };

  /** The allowed call: the session's token, the Web API, the cookie the refresh may have updated. */
  const call = async (c: Context<Env>, rule: ApiProxyRule, pathAndQuery: string): Promise<Response> => {
    const token = await accessToken(c);
    if ('refused' in token) return token.refused;
    const { config } = c.get('served');
    const started = performance.now();
    const response = await forward({
      apiUrl: config.apiUrl ?? DEFAULT_API_URL,
      pathAndQuery,
      method: c.req.method,
      request: c.req.raw,
      authorization: token.authorization,
      timeoutMs: config.upstreamTimeoutMs,
      fetch: options.fetch,
    });
    // The rule, not the path: ids in a path can be personal; the query is never logged.
    c.get('log').info(
      {
        app: config.name,
        rule: `${rule.method} ${rule.path}`,
        status: response.status,
        upstreamMs: Math.round(performance.now() - started),
      },
      'proxied a Web API call',
    );
    for (const cookie of token.setCookies) response.headers.append('Set-Cookie', cookie);
    return response;
  };

  const path = `${base}${PROXY_PATH}/*`;
  app.use(path, options.selectApp, enabled, guard);
  app.all(path, ...budgeted(options.budget, limitBody, proxied));
}

/** What start-up says about each app's proxy: where it sends what, and what it allows. */
export function proxyNotices(apps: readonly AppConfig[]): Record<string, unknown>[] {
  return apps
    .filter((one) => (one.apiProxyPaths ?? []).length > 0)
    .map((one) => ({
      app: one.name,
      apiUrl: one.apiUrl ?? DEFAULT_API_URL,
      allow: (one.apiProxyPaths ?? []).map((rule) => `${rule.method} ${rule.path}`),
    }));
}
