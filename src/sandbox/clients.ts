/** The apps registered with the sandbox, as a developer would register them on Spotify's dashboard. */

export interface SandboxClient {
  clientId: string;
  clientSecret: string;
  /** Exact strings; a loopback URI without a port accepts any port (docs/spotify-accounts.md §4). */
  redirectUris: readonly string[];
  /** Shown on the consent page; defaults to the client id. */
  name?: string;
}

export const SANDBOX_CLIENT_ID = 'sandbox-client-id';
/** Obviously fake, so that a leaked config using it is recognised at a glance. */
export const SANDBOX_CLIENT_SECRET = 'sandbox-client-secret-not-for-production';
export const SANDBOX_DEFAULT_REDIRECT_URIS: readonly string[] = Object.freeze([
  'http://127.0.0.1/callback',
  'http://[::1]/callback',
]);

export type ClientRegistry = ReadonlyMap<string, SandboxClient>;

/**
 * Registered redirect URIs are deliberately not checked against today's rules: Spotify still holds
 * registrations made before November 2025 (http://localhost...), and refusing them at /authorize with
 * `Insecure redirect URI` is exactly what the sandbox has to reproduce.
 */
export function createClientRegistry(clients: readonly SandboxClient[]): ClientRegistry {
  const registry = new Map<string, SandboxClient>();
  for (const client of clients) {
    if (!client.clientId) {
      throw new TypeError('sandbox: a client needs a non-empty clientId');
    }
    if (registry.has(client.clientId)) {
      throw new TypeError(`sandbox: client ${client.clientId} is registered twice`);
    }
    // A copy, so that later changes to the caller's objects do not change what is registered.
    registry.set(client.clientId, { ...client, redirectUris: [...client.redirectUris] });
  }
  return registry;
}
