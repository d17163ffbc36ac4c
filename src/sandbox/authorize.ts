/**
 * GET and POST /authorize (docs/spotify-accounts.md §3). Problems that make the redirect URI untrustworthy are shown
 * as a page; everything found after the redirect URI is validated goes back to the app as `?error=`.
 */
import { checkRedirectUri, findRedirectUri } from '../shared/redirect-uri.js';
import { parseScopes, SPOTIFY_SCOPES } from '../shared/scopes.js';
import type { ClientRegistry, SandboxClient } from './clients.js';
import { readForm, redirect, withQuery } from './http.js';
import { consentPage, refusalPage } from './pages.js';
import type { SandboxStore } from './store.js';

/** The parameters carried from the consent page back to POST /authorize, in this order. */
const AUTHORIZE_PARAMS = [
  'client_id',
  'response_type',
  'redirect_uri',
  'state',
  'scope',
  'show_dialog',
  'code_challenge_method',
  'code_challenge',
] as const;

/** base64url(SHA-256) without padding is always exactly 43 characters. */
const CODE_CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

interface AuthorizeRequest {
  client: SandboxClient;
  redirectUri: string;
  scopes: string[];
  state: string | null;
  challenge: string | undefined;
  fields: Array<[string, string]>;
}

type AuthorizeCheck =
  | { kind: 'ok'; request: AuthorizeRequest }
  | { kind: 'page'; message: string }
  | { kind: 'redirect'; location: string };

/**
 * What Spotify shows as a page instead of redirecting: anything that makes the redirect URI
 * untrustworthy, and an illegal scope.
 */
function pageProblem(
  params: URLSearchParams,
  clients: ClientRegistry,
): { message: string } | { client: SandboxClient; redirectUri: string; scopes: string[] } {
  const client = clients.get(params.get('client_id') ?? '');
  if (!client) return { message: 'INVALID_CLIENT: Invalid client' };
  const redirectUri = params.get('redirect_uri') ?? '';
  if (!redirectUri || findRedirectUri(client.redirectUris, redirectUri) === undefined) {
    return { message: 'INVALID_CLIENT: Invalid redirect URI' };
  }
  const verdict = checkRedirectUri(redirectUri);
  if (verdict.problem === 'insecure' || verdict.problem === 'localhost') {
    return { message: 'INVALID_CLIENT: Insecure redirect URI' };
  }
  if (!verdict.ok) return { message: 'INVALID_CLIENT: Invalid redirect URI' };
  const scopes = parseScopes(params.get('scope'));
  if (scopes.some((scope) => !SPOTIFY_SCOPES.has(scope))) return { message: 'Illegal scope' };
  return { client, redirectUri, scopes };
}

/** What goes back to the app as `?error=`: the response type and the PKCE parameters. */
function redirectProblem(params: URLSearchParams): { error: string; description?: string } | undefined {
  if (params.get('response_type') !== 'code') return { error: 'unsupported_response_type' };
  const method = params.get('code_challenge_method');
  const challenge = params.get('code_challenge') || undefined;
  if (challenge === undefined) {
    // Not documented by Spotify; refused so that a client believing it uses PKCE finds out here.
    return method
      ? {
          error: 'invalid_request',
          description: 'code_challenge must be supplied with code_challenge_method',
        }
      : undefined;
  }
  if (method !== 'S256')
    return { error: 'invalid_request', description: 'code_challenge_method must be S256' };
  if (!CODE_CHALLENGE_PATTERN.test(challenge)) {
    return { error: 'invalid_request', description: 'code_challenge must be 43 characters of base64url' };
  }
  return undefined;
}

/** Validates /authorize parameters the way Spotify does; pure apart from reading the registry. */
function checkAuthorize(params: URLSearchParams, clients: ClientRegistry): AuthorizeCheck {
  const target = pageProblem(params, clients);
  if ('message' in target) return { kind: 'page', message: target.message };
  const { client, redirectUri, scopes } = target;
  const state = params.get('state');
  const problem = redirectProblem(params);
  if (problem) {
    return {
      kind: 'redirect',
      location: withQuery(redirectUri, {
        error: problem.error,
        error_description: problem.description,
        state,
      }),
    };
  }
  const challenge = params.get('code_challenge') || undefined;
  const fields: Array<[string, string]> = [];
  for (const name of AUTHORIZE_PARAMS) {
    const value = params.get(name);
    if (value !== null) fields.push([name, value]);
  }
  return { kind: 'ok', request: { client, redirectUri, scopes, state, challenge, fields } };
}

export interface AuthorizeDeps {
  clients: ClientRegistry;
  store: SandboxStore;
  autoApprove: boolean;
}

function approve(request: AuthorizeRequest, store: SandboxStore): Response {
  const consent = store.consent(request.client.clientId, request.scopes);
  const code = store.issueCode(consent, request.redirectUri, request.challenge);
  return redirect(withQuery(request.redirectUri, { code, state: request.state }));
}

function refusedOrRedirected(check: Exclude<AuthorizeCheck, { kind: 'ok' }>): Response {
  return check.kind === 'page' ? refusalPage(check.message) : redirect(check.location);
}

/**
 * GET /authorize. `show_dialog` is accepted and ignored: the sandbox has no memory of earlier consent;
 * `autoApprove` plays the part of a user who already agreed.
 */
export function getAuthorize(request: Request, deps: AuthorizeDeps): Response {
  const check = checkAuthorize(new URL(request.url).searchParams, deps.clients);
  if (check.kind !== 'ok') {
    return refusedOrRedirected(check);
  }
  if (deps.autoApprove) {
    return approve(check.request, deps.store);
  }
  const { client, redirectUri, scopes, fields } = check.request;
  return consentPage({
    appName: client.name ?? client.clientId,
    clientId: client.clientId,
    redirectUri,
    scopes,
    fields,
  });
}

/**
 * Whether a consent POST comes from the sandbox's own page. A browser says where a form came from:
 * `Sec-Fetch-Site`, and `Origin` (which is `null` from the sandbox's own page, whose referrer policy is
 * no-referrer). A cross-site page that posts `decision=agree` must get no code, as Spotify ties consent
 * to its own page. A client that is not a browser (curl, in the README) sends neither, and is the user.
 */
function fromOwnPage(request: Request): boolean {
  const origin = request.headers.get('origin');
  const site = request.headers.get('sec-fetch-site');
  if (site !== null) return site === 'same-origin' || site === 'none';
  return origin === null || origin === new URL(request.url).origin;
}

/** POST /authorize: the consent form. Everything is checked again, since the hidden fields came back from a browser. */
export async function postAuthorize(request: Request, deps: AuthorizeDeps): Promise<Response> {
  if (!fromOwnPage(request)) {
    return refusalPage('Consent must be given on this page: a request from another site was refused', 403);
  }
  const form = await readForm(request);
  const check = checkAuthorize(form, deps.clients);
  if (check.kind !== 'ok') {
    return refusedOrRedirected(check);
  }
  switch (form.get('decision')) {
    case 'agree':
      return approve(check.request, deps.store);
    case 'cancel':
      return redirect(
        withQuery(check.request.redirectUri, { error: 'access_denied', state: check.request.state }),
      );
    default:
      return refusalPage('Choose Agree or Cancel');
  }
}
