/**
 * Just enough of the Web API to prove an access token works and to serve the service's proxy:
 * `GET /v1/me` here, the player and the top tracks in web-api-player.ts. Its errors have the Web API's
 * shape (`{"error":{"status","message"}}`), not the Accounts service's; faults with `"target":
 * "web-api"` answer any of them first (a 429 with `"reason": "QUOTA_EXCEEDED"`,
 * docs/spotify-accounts.md §6).
 */
import { applyFault } from './fault-answers.js';
import type { FaultQueue } from './faults.js';
import type { SandboxStore } from './store.js';

export interface WebApiDeps {
  store: SandboxStore;
  faults: FaultQueue;
}

export function webApiJson(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'private, max-age=0' },
  });
}

/** The Web API's error object; `reason` on player errors (NO_ACTIVE_DEVICE, ...). */
export function webApiError(status: number, message: string, reason?: string): Response {
  return webApiJson({ error: { status, message, ...(reason === undefined ? {} : { reason }) } }, status);
}

/** The user of the request's Bearer token and the scopes they granted, or the Web API's refusal. */
export async function authorizeCall(
  request: Request,
  env: unknown,
  deps: WebApiDeps,
  scope?: string,
): Promise<
  | { refused: Response }
  | { user: { id: string; displayName: string; email: string }; scopes: readonly string[] }
> {
  const fault = deps.faults.take('web-api');
  const faulted = fault ? await applyFault(fault, env) : undefined;
  if (faulted) return { refused: faulted };
  const { store } = deps;
  const token = /^Bearer +(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  const grant = token === undefined ? undefined : store.findAccessToken(token);
  // Client-credentials tokens have no user behind them, so the /v1/me endpoints cannot answer for them.
  if (!grant?.consent) return { refused: webApiError(401, 'Invalid access token') };
  if (store.accessTokenExpired(grant)) return { refused: webApiError(401, 'The access token expired') };
  const { user, scopes } = grant.consent;
  if (scope !== undefined && !scopes.includes(scope)) {
    return { refused: webApiError(403, 'Insufficient client scope') };
  }
  return { user, scopes };
}

export async function getMe(request: Request, env: unknown, deps: WebApiDeps): Promise<Response> {
  const call = await authorizeCall(request, env, deps);
  if ('refused' in call) return call.refused;
  const { user, scopes } = call;
  // As documented for Get Current User's Profile: email needs user-read-email; country and product
  // need user-read-private.
  const profile: Record<string, string> = { id: user.id, display_name: user.displayName };
  if (scopes.includes('user-read-email')) {
    profile.email = user.email;
  }
  if (scopes.includes('user-read-private')) {
    profile.country = 'SE';
    profile.product = 'premium';
  }
  profile.type = 'user';
  profile.uri = `spotify:user:${user.id}`;
  return webApiJson(profile);
}
