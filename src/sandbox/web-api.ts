/**
 * GET /v1/me: just enough of the Web API to prove an access token works. Its errors have the Web API's
 * shape (`{"error":{"status","message"}}`), not the Accounts service's; faults with `"target":
 * "web-api"` answer it first (a 429 with `"reason": "QUOTA_EXCEEDED"`, docs/spotify-accounts.md §6).
 */
import { applyFault } from './fault-answers.js';
import type { FaultQueue } from './faults.js';
import type { SandboxStore } from './store.js';

function webApiJson(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'private, max-age=0' },
  });
}

function unauthorized(message: string): Response {
  return webApiJson({ error: { status: 401, message } }, 401);
}

export async function getMe(
  request: Request,
  env: unknown,
  deps: { store: SandboxStore; faults: FaultQueue },
): Promise<Response> {
  const fault = deps.faults.take('web-api');
  const faulted = fault ? await applyFault(fault, env) : undefined;
  if (faulted) {
    return faulted;
  }
  const { store } = deps;
  const token = /^Bearer +(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  const grant = token === undefined ? undefined : store.findAccessToken(token);
  // Client-credentials tokens have no user behind them, so /v1/me cannot answer for them.
  if (!grant?.consent) {
    return unauthorized('Invalid access token');
  }
  if (store.accessTokenExpired(grant)) {
    return unauthorized('The access token expired');
  }
  const { user, scopes } = grant.consent;
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
