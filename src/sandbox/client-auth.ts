/** Who is calling the token endpoint: a confidential app (HTTP Basic) or a public PKCE app (client_id). */
import { fromUtf8, timingSafeEqual } from '../shared/encoding.js';
import type { ClientRegistry, SandboxClient } from './clients.js';

type BasicCredentials =
  | { kind: 'none' }
  | { kind: 'malformed' }
  | { kind: 'basic'; clientId: string; clientSecret: string };

/** Parses `Authorization: Basic base64(client_id:client_secret)`; any other Authorization header is malformed. */
function parseBasicAuth(header: string | null): BasicCredentials {
  if (header === null) {
    return { kind: 'none' };
  }
  const match = /^Basic +([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (!match?.[1]) {
    return { kind: 'malformed' };
  }
  let decoded: string;
  try {
    const binary = atob(match[1]);
    decoded = fromUtf8(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
  } catch {
    return { kind: 'malformed' };
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) {
    return { kind: 'malformed' };
  }
  return { kind: 'basic', clientId: decoded.slice(0, colon), clientSecret: decoded.slice(colon + 1) };
}

export function hasBasicScheme(header: string | null): boolean {
  return header !== null && /^Basic(\s|$)/i.test(header);
}

export type ClientAuthResult =
  | { ok: true; client: SandboxClient; confidential: boolean }
  | { ok: false; description: string | undefined };

/**
 * Authenticates the caller. Without a Basic header the app is a public PKCE client named by `client_id`
 * in the body; a `client_secret` in the body is ignored, as current Spotify docs only show Basic.
 */
export async function authenticateClient(
  header: string | null,
  form: URLSearchParams,
  clients: ClientRegistry,
): Promise<ClientAuthResult> {
  const credentials = parseBasicAuth(header);
  switch (credentials.kind) {
    case 'malformed':
      // Spotify answers a malformed header with a bare `invalid_client` (spotify/web-api#289).
      return { ok: false, description: undefined };
    case 'basic': {
      const client = clients.get(credentials.clientId);
      if (!client) {
        return { ok: false, description: 'Invalid client' };
      }
      if (!(await timingSafeEqual(credentials.clientSecret, client.clientSecret))) {
        return { ok: false, description: 'Invalid client secret' };
      }
      return { ok: true, client, confidential: true };
    }
    case 'none': {
      const client = clients.get(form.get('client_id') ?? '');
      if (!client) {
        return { ok: false, description: 'Invalid client' };
      }
      return { ok: true, client, confidential: false };
    }
  }
}
