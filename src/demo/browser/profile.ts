/** The user's profile from the Web API's `GET /v1/me`: the first thing an app does with its token. */
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
  const body: unknown = await response.json().catch(() => undefined);
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  if (!response.ok || typeof record.id !== 'string') {
    // The Web API's error shape: {"error": {"status", "message"}}.
    const error = record.error as { message?: unknown } | undefined;
    const message = typeof error?.message === 'string' && error.message ? error.message : undefined;
    throw new DemoError('profile_error', message ?? `GET /v1/me answered HTTP ${response.status}.`);
  }
  return {
    id: record.id,
    displayName: typeof record.display_name === 'string' ? record.display_name : undefined,
    email: typeof record.email === 'string' ? record.email : undefined,
  };
}
