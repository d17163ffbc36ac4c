/** POST /api/token (docs/spotify-accounts.md §1-2): the exact error strings and statuses Spotify has been seen to send. */
import { CODE_VERIFIER_PATTERN, pkceChallenge, timingSafeEqual } from '../shared/encoding.js';
import { authenticateClient, hasBasicScheme } from './client-auth.js';
import type { ClientRegistry, SandboxClient } from './clients.js';
import { applyFault } from './fault-answers.js';
import type { FaultQueue } from './faults.js';
import { json, readForm } from './http.js';
import { grantKind, type SandboxStats } from './stats.js';
import type { IssuedTokens, SandboxStore } from './store.js';

export interface TokenDeps {
  clients: ClientRegistry;
  store: SandboxStore;
  faults: FaultQueue;
  stats: SandboxStats;
  rotateRefreshTokens: boolean;
}

/** Every Accounts error is a 400, even `invalid_client` (docs/spotify-accounts.md §2). */
function tokenError(error: string, description?: string): Response {
  return json(description === undefined ? { error } : { error, error_description: description }, 400);
}

function tokenResponse(issued: IssuedTokens, scopes: readonly string[] | undefined): Response {
  // Key order as Spotify sends them; `expires_in` a number, because strict clients reject a string.
  const body: Record<string, string | number> = {
    access_token: issued.accessToken,
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
  };
  if (issued.refreshToken !== undefined) {
    body.refresh_token = issued.refreshToken;
  }
  if (scopes !== undefined) {
    body.scope = scopes.join(' ');
  }
  return json(body);
}

// Sockets are compared by identity; a WeakSet lets closed ones be collected.
const seenSockets = new WeakSet<object>();

export async function postToken(request: Request, env: unknown, deps: TokenDeps): Promise<Response> {
  const form = await readForm(request);
  const header = request.headers.get('authorization');
  const grantType = form.get('grant_type');

  const { stats } = deps;
  stats.tokenRequests += 1;
  const socket = (env as { incoming?: { socket?: object } } | undefined)?.incoming?.socket;
  if (socket && !seenSockets.has(socket)) {
    seenSockets.add(socket);
    stats.tokenConnections += 1;
  }
  stats.byGrant[grantKind(grantType)] += 1;
  stats.lastTokenRequest = {
    grantType,
    hadBasicAuth: hasBasicScheme(header),
    contentType: request.headers.get('content-type'),
    params: [...new Set(form.keys())],
    queryParams: [...new Set(new URL(request.url).searchParams.keys())],
  };

  const fault = deps.faults.take();
  if (fault) {
    stats.faulted += 1;
    const answer = await applyFault(fault, env);
    if (answer) {
      return answer;
    }
  }
  return handleToken(form, header, grantType, deps);
}

async function handleToken(
  form: URLSearchParams,
  header: string | null,
  grantType: string | null,
  deps: TokenDeps,
): Promise<Response> {
  if (!grantType) {
    return tokenError('unsupported_grant_type', 'grant_type parameter is missing');
  }
  if (
    grantType !== 'authorization_code' &&
    grantType !== 'refresh_token' &&
    grantType !== 'client_credentials'
  ) {
    return tokenError(
      'unsupported_grant_type',
      'grant_type must be client_credentials, authorization_code or refresh_token',
    );
  }
  const auth = await authenticateClient(header, form, deps.clients);
  if (!auth.ok) {
    return tokenError('invalid_client', auth.description);
  }
  switch (grantType) {
    case 'authorization_code':
      return exchangeCode(form, auth.client, auth.confidential, deps);
    case 'refresh_token':
      return refresh(form, auth.client, auth.confidential, deps);
    case 'client_credentials':
      return clientCredentials(auth.confidential, deps);
  }
}

async function exchangeCode(
  form: URLSearchParams,
  client: SandboxClient,
  confidential: boolean,
  deps: TokenDeps,
): Promise<Response> {
  const code = form.get('code');
  if (!code) {
    return tokenError('invalid_request', 'code must be supplied');
  }
  // Spent here, once the caller is authenticated, whatever the outcome below.
  const grant = deps.store.takeCode(code);
  if (!grant) {
    return tokenError('invalid_grant', 'Invalid authorization code');
  }
  if (grant.consent.clientId !== client.clientId) {
    return tokenError('invalid_grant', 'Invalid authorization code');
  }
  if (deps.store.codeExpired(grant)) {
    return tokenError('invalid_grant', 'Authorization code expired');
  }
  if (form.get('redirect_uri') !== grant.redirectUri) {
    return tokenError('invalid_grant', 'Invalid redirect URI');
  }
  // A public client proves itself only through PKCE, so it needs a verifier even for a code without a
  // challenge (which it then cannot match). A confidential client needs one only if a challenge was sent.
  if (grant.challenge !== undefined || !confidential) {
    const verifier = form.get('code_verifier');
    if (!verifier) {
      return tokenError('invalid_request', 'code_verifier required');
    }
    const matches =
      grant.challenge !== undefined &&
      CODE_VERIFIER_PATTERN.test(verifier) &&
      (await timingSafeEqual(await pkceChallenge(verifier), grant.challenge));
    if (!matches) {
      return tokenError('invalid_grant', 'code_verifier was incorrect');
    }
  }
  return tokenResponse(deps.store.issueTokens(grant.consent, true), grant.consent.scopes);
}

function refresh(
  form: URLSearchParams,
  client: SandboxClient,
  confidential: boolean,
  deps: TokenDeps,
): Response {
  const token = form.get('refresh_token');
  if (!token) {
    return tokenError('invalid_request', 'refresh_token must be supplied');
  }
  const grant = deps.store.findRefreshToken(token);
  if (!grant || grant.consent.clientId !== client.clientId) {
    return tokenError('invalid_grant', 'Invalid refresh token');
  }
  if (grant.revokedAt !== undefined) {
    return tokenError('invalid_grant', 'Refresh token revoked');
  }
  if (deps.store.refreshTokenExpired(grant)) {
    // Spotify documents only `invalid_grant` here; the description is ours (its exact text is not published).
    return tokenError('invalid_grant', 'Refresh token expired');
  }
  // PKCE refreshes always rotate; confidential ones only when the sandbox is told to (docs/spotify-accounts.md §6).
  const rotate = !confidential || deps.rotateRefreshTokens;
  const issued = deps.store.issueTokens(grant.consent, rotate);
  if (rotate) {
    deps.store.revoke(grant);
  }
  return tokenResponse(issued, grant.consent.scopes);
}

/**
 * The app's own token, without a user: Basic auth required, no refresh token and no scope, as in
 * Spotify's client-credentials documentation. A public client cannot use it.
 */
function clientCredentials(confidential: boolean, deps: TokenDeps): Response {
  if (!confidential) {
    return tokenError('invalid_client', 'Invalid client');
  }
  return tokenResponse(deps.store.issueTokens(undefined, false), undefined);
}
