/** The user's profile from the Web API's `GET /v1/me`: the first thing an app does with its token. */
import { describeWebApiError, readWebApiError } from '../../client/index.js';
import { DemoError } from './errors.js';

export interface Profile {
  id: string;
  displayName: string | undefined;
  email: string | undefined;
}

export async function profileRequest(
  accountsUrl: string,
  accessToken: string,
  fetchProfile: typeof fetch,
): Promise<Response> {
  try {
    return await fetchProfile(`${accountsUrl}/v1/me`, {
      headers: { Authorization: `Bearer ${accessToken}` },
    });
  } catch {
    throw new DemoError('network_error', `Could not reach ${accountsUrl}/v1/me for the profile.`);
  }
}

export async function processProfileResponse(response: Response): Promise<Profile> {
  if (!response.ok) {
    // The kit's reader of the Web API's errors: a spent quota reads as such, not as a bare 429.
    throw new DemoError('profile_error', describeWebApiError(await readWebApiError(response)));
  }
  const body: unknown = await response.json().catch(() => undefined);
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  if (typeof record.id !== 'string') {
    throw new DemoError('profile_error', `GET /v1/me answered HTTP ${response.status} without a profile.`);
  }
  return {
    id: record.id,
    displayName: typeof record.display_name === 'string' ? record.display_name : undefined,
    email: typeof record.email === 'string' ? record.email : undefined,
  };
}
