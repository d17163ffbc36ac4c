/**
 * The sandbox's own control endpoints under /__sandbox. Not part of Spotify's API: they let a test that
 * only has a URL (another process, another runtime) inject faults, read counters and mint grants.
 */
import type { Hono } from 'hono';
import { checkRedirectUri, findRedirectUri } from '../shared/redirect-uri.js';
import { SPOTIFY_SCOPES } from '../shared/scopes.js';
import type { ClientRegistry, SandboxClient } from './clients.js';
import { FaultError, type FaultQueue, parseFaults } from './faults.js';
import { json } from './http.js';
import type { SandboxStore } from './store.js';

export interface ControlDeps {
  faults: FaultQueue;
  stats(): unknown;
  reset(): void;
  store: SandboxStore;
  clients: ClientRegistry;
}

/** Per call, so one request cannot hold the event loop for long or build a response of hundreds of MB. */
const MAX_MINT = 500_000;

interface MintRequest {
  client: SandboxClient;
  codes: number;
  refreshTokens: number;
  redirectUri: string | undefined;
  scopes: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: unknown, name: string): number | string {
  if (value === undefined) {
    return 0;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_MINT) {
    return `${name} must be a whole number from 0 to ${MAX_MINT}`;
  }
  return value;
}

/**
 * Checks a mint request as /authorize would check the same consent: a registered client, a redirect
 * URI registered for it and valid under Spotify's rules, known scopes. Returns the problem as a sentence.
 */
function parseMintRequest(body: unknown, clients: ClientRegistry): MintRequest | string {
  if (!isRecord(body)) {
    return 'body must be a JSON object';
  }
  const codes = count(body.codes, 'codes');
  if (typeof codes === 'string') return codes;
  const refreshTokens = count(body.refreshTokens, 'refreshTokens');
  if (typeof refreshTokens === 'string') return refreshTokens;
  const client = mintClient(body.clientId, clients);
  if (typeof client === 'string') return client;
  const redirectUri = mintRedirectUri(body.redirectUri, client, codes);
  if (redirectUri !== undefined && !redirectUri.ok) return redirectUri.problem;
  const scopes = body.scopes ?? [];
  if (
    !Array.isArray(scopes) ||
    !scopes.every((scope): scope is string => typeof scope === 'string' && SPOTIFY_SCOPES.has(scope))
  ) {
    return 'scopes must be an array of Spotify scopes';
  }
  return { client, codes, refreshTokens, redirectUri: redirectUri?.uri, scopes: [...new Set(scopes)] };
}

function mintClient(clientId: unknown, clients: ClientRegistry): SandboxClient | string {
  if (clientId === undefined) {
    return clients.size === 1
      ? ([...clients.values()][0] as SandboxClient)
      : 'clientId is required when several clients are registered';
  }
  return (
    (typeof clientId === 'string' ? clients.get(clientId) : undefined) ??
    'clientId must be a registered client'
  );
}

function mintRedirectUri(
  value: unknown,
  client: SandboxClient,
  codes: number,
): { ok: true; uri: string } | { ok: false; problem: string } | undefined {
  if (value === undefined) {
    // A code is bound to the redirect URI of its authorization; the exchange has to repeat it.
    return codes > 0 ? { ok: false, problem: 'redirectUri is required to mint codes' } : undefined;
  }
  if (typeof value !== 'string') return { ok: false, problem: 'redirectUri must be a string' };
  if (!checkRedirectUri(value).ok || findRedirectUri(client.redirectUris, value) === undefined) {
    return { ok: false, problem: 'redirectUri must be a valid redirect URI registered for the client' };
  }
  return { ok: true, uri: value };
}

/**
 * Mints straight into the store, skipping the consent page and the token endpoint, which would cost
 * several times more per grant. Each grant gets its own consent (a user of its own), as from many
 * users authorizing once each. Codes carry no PKCE challenge, so Basic auth alone exchanges them.
 */
function mint(request: MintRequest, store: SandboxStore): { codes: string[]; refreshTokens: string[] } {
  const { client, scopes, redirectUri } = request;
  const codes: string[] = [];
  // parseMintRequest asks for a redirect URI whenever codes are wanted.
  for (let i = 0; redirectUri !== undefined && i < request.codes; i++) {
    codes.push(store.issueCode(store.consent(client.clientId, scopes), redirectUri, undefined));
  }
  const refreshTokens: string[] = [];
  for (let i = 0; i < request.refreshTokens; i++) {
    const { refreshToken } = store.issueTokens(store.consent(client.clientId, scopes), true);
    if (refreshToken !== undefined) {
      refreshTokens.push(refreshToken);
    }
  }
  return { codes, refreshTokens };
}

export function mountControl(app: Hono, deps: ControlDeps): void {
  app.post('/__sandbox/faults', async (c) => {
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      return json(
        { error: 'invalid_fault', error_description: 'body must be a JSON fault or array of faults' },
        400,
      );
    }
    try {
      deps.faults.push(...parseFaults(body));
    } catch (error) {
      if (error instanceof FaultError) {
        return json({ error: 'invalid_fault', error_description: error.message }, 400);
      }
      throw error;
    }
    return c.body(null, 204);
  });
  app.get('/__sandbox/faults', () => json(deps.faults.pending()));
  app.delete('/__sandbox/faults', (c) => {
    deps.faults.clear();
    return c.body(null, 204);
  });
  app.get('/__sandbox/stats', () => json(deps.stats()));
  app.post('/__sandbox/reset', (c) => {
    deps.reset();
    return c.body(null, 204);
  });
  // Grants in bulk for load tests: codes are single use, and distinct refresh tokens keep a benchmark
  // from measuring a service's coalescing of identical refreshes instead of its own work.
  app.post('/__sandbox/mint', async (c) => {
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      return json({ error: 'invalid_mint', error_description: 'body must be a JSON object' }, 400);
    }
    const request = parseMintRequest(body, deps.clients);
    if (typeof request === 'string') {
      return json({ error: 'invalid_mint', error_description: request }, 400);
    }
    return json(mint(request, deps.store));
  });
}
