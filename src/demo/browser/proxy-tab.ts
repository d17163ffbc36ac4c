/**
 * The "Web API proxy" tab (backend-for-frontend, docs/sessions.md "Web API proxy"): the page calls
 * `GET /v1/me` through the service with the kit's `apiFetch`, which sends the session cookie and
 * `X-CSRF` and no token: the service adds the session's access token. Its own refusals (a path off the
 * allowlist, a session that ended) are told apart from the Web API's answers, which come back as
 * Spotify sent them.
 */
import { type CookieSession, LoginRequiredError, SwapServiceError } from '../../client/index.js';
import { DemoError } from './errors.js';
import { type Profile, processProfileResponse } from './profile.js';

/** What the tab's buttons call: one the demo's allowlist has, one it has not (to show the 403). */
export const PROXY_PATHS = { me: '/v1/me', offList: '/v1/me/following?type=artist' } as const;

export interface ProxyAnswer {
  status: number;
  profile: Profile;
}

interface ServiceRefusal {
  error: string;
  error_description?: unknown;
}

/** The service's `{error, error_description}`, where the Web API's errors are `{error: {status, message}}`. */
async function serviceRefusal(response: Response): Promise<ServiceRefusal | undefined> {
  if (response.ok) return undefined;
  const body: unknown = await response
    .clone()
    .json()
    .catch(() => undefined);
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  return typeof error === 'string' ? (body as ServiceRefusal) : undefined;
}

/**
 * The service's refusal as the page tells it: a session that ended as the kit's LoginRequiredError
 * (as `/session/token` would end it: the service cleared the cookie already), anything else with the
 * service's own code and sentence.
 */
function refusalError(refusal: ServiceRefusal, response: Response): Error {
  const description = typeof refusal.error_description === 'string' ? refusal.error_description : undefined;
  if (refusal.error === 'login_required') return new LoginRequiredError('not_logged_in');
  if (refusal.error === 'invalid_grant') {
    return new LoginRequiredError(
      /expired/i.test(description ?? '') ? 'expired' : 'refresh_token_rejected',
      description,
    );
  }
  const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
  return new SwapServiceError(
    refusal.error,
    description,
    response.status,
    Number.isFinite(retryAfter) ? retryAfter : undefined,
    response,
  );
}

export async function processProxyResponse(response: Response): Promise<ProxyAnswer> {
  const refusal = await serviceRefusal(response);
  if (refusal) throw refusalError(refusal, response);
  return { status: response.status, profile: await processProfileResponse(response) };
}

/** One call through the proxy; the kit's apiFetch refuses any path outside `/v1/`. */
export async function proxyCall(
  session: Pick<CookieSession, 'apiFetch' | 'swapUrl'>,
  path: string,
): Promise<ProxyAnswer> {
  let response: Response;
  try {
    response = await session.apiFetch(path);
  } catch {
    throw new DemoError('network_error', `Could not reach ${session.swapUrl}/spotify${path}.`);
  }
  return processProxyResponse(response);
}
