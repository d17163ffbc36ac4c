/**
 * The sandbox's own control endpoints under /__sandbox. Not part of Spotify's API: they let a test that
 * only has a URL (another process, another runtime) inject faults, read counters and mint grants.
 *
 * People do expose sandboxes, so these answer only a client on the same machine (a loopback peer that
 * came through no proxy) or one that presents the control token the sandbox printed at start
 * (`Authorization: Bearer <token>`); anyone else gets 403.
 */
import type { Context, Hono } from 'hono';
import { timingSafeEqual } from '../shared/encoding.js';
import { checkRedirectUri, findRedirectUri } from '../shared/redirect-uri.js';
import { SPOTIFY_SCOPES } from '../shared/scopes.js';
import { age, parseAgeRequest } from './age.js';
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
  /** Lets a remote client in; compared in constant time. */
  controlToken: string;
  /** The peer's address as the runtime sees it, when it can tell. */
  peerAddress(c: Context): string | undefined;
}

/** Per call: half of what the store keeps of each kind, so that a call's own grants are not evicted. */
const mintLimit = (store: SandboxStore) => Math.floor(store.maxRecordsPerKind / 2);
/** Grants minted between two yields to the event loop, so that other requests keep being answered. */
const MINT_BATCH = 1_000;

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** A client on this machine that came through no proxy, or one with the control token. */
async function mayControl(c: Context, deps: ControlDeps): Promise<boolean> {
  const proxied = c.req.header('x-forwarded-for') !== undefined || c.req.header('forwarded') !== undefined;
  const peer = deps.peerAddress(c);
  if (!proxied && peer !== undefined && LOOPBACK.test(peer)) return true;
  const presented = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1];
  return presented !== undefined && (await timingSafeEqual(presented, deps.controlToken));
}

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

function count(value: unknown, name: string, max: number): number | string {
  if (value === undefined) {
    return 0;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    return `${name} must be a whole number from 0 to ${max}`;
  }
  return value;
}

/**
 * Checks a mint request as /authorize would check the same consent: a registered client, a redirect
 * URI registered for it and valid under Spotify's rules, known scopes. Returns the problem as a sentence.
 */
function parseMintRequest(body: unknown, clients: ClientRegistry, max: number): MintRequest | string {
  if (!isRecord(body)) {
    return 'body must be a JSON object';
  }
  const codes = count(body.codes, 'codes', max);
  if (typeof codes === 'string') return codes;
  const refreshTokens = count(body.refreshTokens, 'refreshTokens', max);
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
 * It yields every MINT_BATCH grants, so that the sandbox (and a service sharing its process) keeps
 * answering meanwhile.
 */
async function mint(
  request: MintRequest,
  store: SandboxStore,
): Promise<{ codes: string[]; refreshTokens: string[]; evicted: number }> {
  const { client, scopes, redirectUri } = request;
  const evictedBefore = store.evicted;
  const codes: string[] = [];
  // parseMintRequest asks for a redirect URI whenever codes are wanted.
  for (let i = 0; redirectUri !== undefined && i < request.codes; i++) {
    if (i > 0 && i % MINT_BATCH === 0) await yieldToEventLoop();
    codes.push(store.issueCode(store.consent(client.clientId, scopes), redirectUri, undefined));
  }
  const refreshTokens: string[] = [];
  for (let i = 0; i < request.refreshTokens; i++) {
    if (i > 0 && i % MINT_BATCH === 0) await yieldToEventLoop();
    const { refreshToken } = store.issueTokens(store.consent(client.clientId, scopes), true);
    if (refreshToken !== undefined) {
      refreshTokens.push(refreshToken);
    }
  }
  // Said in the answer: older grants that stopped working to make room for these.
  return { codes, refreshTokens, evicted: store.evicted - evictedBefore };
}

export function mountControl(app: Hono, deps: ControlDeps): void {
  app.use('/__sandbox/*', async (c, next) => {
    if (await mayControl(c, deps)) return next();
    return json(
      {
        error: 'forbidden',
        error_description:
          'The sandbox control endpoints answer clients on this machine, or requests with the control token it printed at start (Authorization: Bearer ...)',
      },
      403,
    );
  });
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
    const request = parseMintRequest(body, deps.clients, mintLimit(deps.store));
    if (typeof request === 'string') {
      return json({ error: 'invalid_mint', error_description: request }, 400);
    }
    return json(await mint(request, deps.store));
  });
  // A login's end (six months) without waiting for it: see age.ts.
  app.post('/__sandbox/age', async (c) => {
    const refuse = (description: string) =>
      json({ error: 'invalid_age', error_description: description }, 400);
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      return refuse('body must be a JSON object');
    }
    const request = parseAgeRequest(body);
    if (typeof request === 'string') return refuse(request);
    const answer = age(request, deps.store);
    return typeof answer === 'string' ? refuse(answer) : json(answer);
  });
}
