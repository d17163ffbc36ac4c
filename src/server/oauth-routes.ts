/**
 * The standard OAuth 2.0 face of the service: `POST /token` (endpoints/token-endpoint.ts) and the RFC
 * 8414 metadata (endpoints/metadata.ts), at the root and under `/apps/:app`. The root `/token` serves
 * every configured app, picked by `client_id`; `/apps/{name}/token` that app only. The rate budgets
 * are the ones of `/swap` and `/refresh`, spent once the grant type is known.
 */

import type { Context, Handler, Hono, MiddlewareHandler } from 'hono';
import { jsonResponse, withHeaders } from './answer.js';
import { DEFAULT_APP, type ServiceConfig } from './config/index.js';
import { ALLOW, APPS_PATH, type Grant, OAUTH } from './contract.js';
import { publicClientId } from './endpoints/client-auth.js';
import { proofInput } from './endpoints/dpop.js';
import { withDpopNonce } from './endpoints/dpop-nonce.js';
import { METADATA_PATH, metadataBase, metadataDocument } from './endpoints/metadata.js';
import { readParams } from './endpoints/params.js';
import { appForClient, grantTypeOf, runGrant, TOKEN_GRANT_TYPES } from './endpoints/token-endpoint.js';
import { errorResponse, notFound, OAuthError } from './errors.js';
import type { Logger } from './logger.js';
import { corsGate } from './middleware/cors.js';
import { methodNotAllowed } from './middleware/method-not-allowed.js';
import { traceRequest } from './middleware/trace-request.js';
import type { Env, ServedApp } from './token-routes.js';
import { ATTR, GRANT_TYPES, type Tracing } from './tracing.js';

const TOKEN_PATH = OAUTH.token;

type BudgetCheck = (
  c: Context<Env>,
) => Promise<{ refused: Response } | { headers: Readonly<Record<string, string>> }>;

export interface OAuthRouteOptions {
  budgets: Readonly<Record<Grant, BudgetCheck>>;
  limitBody: MiddlewareHandler;
  tracing: { tracing: Tracing; logger: Logger } | undefined;
}

interface Base {
  /** The route prefix: `''`, or `/apps/:app`. */
  route: string;
  /** The apps a request on this base may be for; empty: none (an unknown app name). */
  candidates: (c: Context<Env>) => readonly ServedApp[];
  /** The CORS origins of those apps. */
  origins: (c: Context<Env>) => ReadonlySet<string>;
}

const NONE: ReadonlySet<string> = new Set();

function bases(served: ReadonlyMap<string, ServedApp>): Base[] {
  const all = [...served.values()];
  const everyOrigin: ReadonlySet<string> = new Set(all.flatMap((one) => [...one.corsOrigins]));
  const list: Base[] = [{ route: '', candidates: () => all, origins: () => everyOrigin }];
  if (served.size > (served.has(DEFAULT_APP) ? 1 : 0)) {
    const named = (c: Context<Env>) => {
      const name = c.req.param('app') ?? '';
      return name === DEFAULT_APP ? undefined : served.get(name);
    };
    list.push({
      route: `${APPS_PATH}/:app`,
      candidates: (c) => {
        const app = named(c);
        return app ? [app] : [];
      },
      origins: (c) => named(c)?.corsOrigins ?? NONE,
    });
  }
  return list;
}

/** The app whose Accounts the metadata names: the one of the prefix, or at the root the environment's. */
function metadataApp(base: Base, c: Context<Env>, served: ReadonlyMap<string, ServedApp>) {
  if (base.route === '') return served.get(DEFAULT_APP);
  return base.candidates(c)[0];
}

/**
 * The root /token answers preflights for every app's origins; once the app is known, an origin that is
 * another app's is refused, so that one app's origins never open another's endpoints (middleware/cors.ts).
 */
function checkOrigin(c: Context<Env>, served: ServedApp, allowed: ReadonlySet<string>): void {
  const origin = c.req.header('origin');
  if (origin !== undefined && allowed.has(origin) && !served.corsOrigins.has(origin)) {
    throw new OAuthError(403, 'invalid_request', 'This origin is not allowed for this app');
  }
}

function tokenHandler(base: Base, budgets: OAuthRouteOptions['budgets']): Handler<Env> {
  return async (c) => {
    const params = await readParams(c.req.raw);
    const clientId = publicClientId(c.req.header('authorization'), params);
    const served = appForClient(base.candidates(c), clientId, DEFAULT_APP);
    checkOrigin(c, served, base.origins(c));
    c.set('served', served);
    c.get('span')?.setAttributes({ [ATTR.app]: served.config.name });
    const grantType = grantTypeOf(params);
    const grant = TOKEN_GRANT_TYPES[grantType];
    c.get('span')?.setAttributes({ [ATTR.grantType]: GRANT_TYPES[grant] });
    const budget = await budgets[grant](c);
    if ('refused' in budget) return budget.refused;
    const response = await runGrant(
      served,
      grantType,
      params,
      proofInput(c.req.raw),
      c.get('log'),
      c.get('span'),
    );
    return withDpopNonce(served.handlers, withHeaders(response, budget.headers));
  };
}

export function mountOAuthEndpoints(
  app: Hono<Env>,
  served: ReadonlyMap<string, ServedApp>,
  config: ServiceConfig,
  options: OAuthRouteOptions,
): void {
  const readOnly = methodNotAllowed({ allow: ALLOW.readOnly });

  for (const base of bases(served)) {
    const known: MiddlewareHandler<Env> = async (c, next) =>
      base.candidates(c).length === 0 ? errorResponse(notFound()) : next();
    const cors = corsGate({ allowedOrigins: base.origins });

    const tokenPath = `${base.route}${TOKEN_PATH}`;
    const trace = options.tracing
      ? [
          traceRequest({
            ...options.tracing,
            route: tokenPath,
            grant: undefined,
            // Known for sure only once client_id is read: the handler names it then.
            appName: (c: Context<Env>) =>
              base.route === '' ? '' : (base.candidates(c)[0]?.config.name ?? ''),
          }),
        ]
      : [];
    app.use(tokenPath, known, ...trace, cors);
    app.post(tokenPath, options.limitBody, tokenHandler(base, options.budgets));
    app.all(
      tokenPath,
      methodNotAllowed({
        allow: (c: Context<Env>) => (base.origins(c).size > 0 ? ALLOW.tokenWithCors : ALLOW.token),
      }),
    );

    const metadataRoute = `${METADATA_PATH}${base.route}`;
    app.use(metadataRoute, known, cors);
    app.get(metadataRoute, (c) => {
      const described = metadataApp(base, c, served);
      if (!described) {
        return errorResponse(
          notFound('No app is served at the root; each app has its metadata under /apps/{name}'),
        );
      }
      const prefix = base.route === '' ? '' : `${APPS_PATH}/${described.config.name}`;
      return jsonResponse(
        200,
        metadataDocument({
          base: metadataBase(config.publicUrl, c.req.url),
          prefix,
          accountsUrl: described.config.accountsUrl,
          dpop: described.handlers.bindsDpop,
          clientId: described.config.clientId,
        }),
      );
    });
    app.all(metadataRoute, readOnly);
  }
}
