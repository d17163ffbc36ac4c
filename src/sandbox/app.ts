/** Assembles the fake Spotify Accounts service (plus a few Web API endpoints) into one mountable Hono app. */
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { randomToken } from '../shared/encoding.js';
import { getAuthorize, postAuthorize } from './authorize.js';
import { createClientRegistry, type SandboxClient } from './clients.js';
import { mountControl } from './control.js';
import { DroppedConnection } from './fault-answers.js';
import { FaultQueue } from './faults.js';
import { json } from './http.js';
import { emptyStats, type SandboxStats } from './stats.js';
import { SandboxStore } from './store.js';
import { postToken } from './token.js';
import { getMe, webApiError } from './web-api.js';
import { createPlayer } from './web-api-player.js';

export interface SandboxOptions {
  /** The registered apps. */
  clients: SandboxClient[];
  /** GET /authorize redirects with a code at once, as for a user who already agreed. */
  autoApprove?: boolean;
  /** A refresh with Basic auth returns a new refresh token and revokes the old one (PKCE refreshes always do). */
  rotateRefreshTokens?: boolean;
  /** Clock in ms; injectable so tests can expire codes (10 min) and refresh tokens (6 months). */
  now?: () => number;
  /** Default 3600, Spotify's value. */
  accessTokenTtlSeconds?: number;
  /** How many codes, refresh tokens and access tokens the sandbox keeps of each; default 100 000. */
  maxRecordsPerKind?: number;
  /** Lets a remote client use the control endpoints; default: a fresh random one (see `controlToken`). */
  controlToken?: string;
  /**
   * The peer's address, to let local clients use the control endpoints without the token. Default: the
   * socket's, where the Node adapter passes it (`env.incoming.socket`); elsewhere only the token works.
   */
  peerAddress?: (c: Context) => string | undefined;
}

/** Spotify's answers and the sandbox's own requests are small: the service's own limit, for the same reason. */
const MAX_BODY_BYTES = 8 * 1024;

function nodePeerAddress(c: Context): string | undefined {
  const socket = (c.env as { incoming?: { socket?: { remoteAddress?: unknown } } } | undefined)?.incoming
    ?.socket;
  return typeof socket?.remoteAddress === 'string' ? socket.remoteAddress : undefined;
}

export interface Sandbox {
  /** A fetch handler; mountable with `parent.route('/sandbox', sandbox.app)` (its pages link relatively). */
  app: Hono;
  /** Programmatic fault injection, the same queue as `POST /__sandbox/faults`. */
  faults: FaultQueue;
  stats(): SandboxStats;
  /** Clears faults and stats; registered clients, codes and tokens stay. */
  reset(): void;
  /** What a remote client presents to use /__sandbox (`Authorization: Bearer <token>`); print it at start. */
  readonly controlToken: string;
}

export function createSandbox(options: SandboxOptions): Sandbox {
  const ttl = options.accessTokenTtlSeconds ?? 3600;
  if (!Number.isInteger(ttl) || ttl <= 0) {
    throw new TypeError('sandbox: accessTokenTtlSeconds must be a positive integer');
  }
  const clients = createClientRegistry(options.clients);
  const store = new SandboxStore(options.now ?? Date.now, ttl, options.maxRecordsPerKind);
  const faults = new FaultQueue();
  let stats = emptyStats();

  const sandbox: Sandbox = {
    app: new Hono(),
    controlToken: options.controlToken ?? randomToken(24),
    faults,
    // A copy, so a caller holding a snapshot does not see it change under them.
    stats: () => ({ ...structuredClone(stats), evicted: store.evicted }),
    reset: () => {
      faults.clear();
      stats = emptyStats();
    },
  };

  const { app } = sandbox;
  // Before anything reads a body: an answer as the token endpoint gives it, with the connection ended.
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () =>
        json(
          { error: 'invalid_request', error_description: `The request body exceeds ${MAX_BODY_BYTES} bytes` },
          413,
          {
            Connection: 'close',
          },
        ),
    }),
  );
  const authorizeDeps = { clients, store, autoApprove: options.autoApprove ?? false };
  app.get('/authorize', (c) => {
    stats.authorizeRequests += 1;
    return getAuthorize(c.req.raw, authorizeDeps);
  });
  app.post('/authorize', (c) => {
    stats.authorizeRequests += 1;
    return postAuthorize(c.req.raw, authorizeDeps);
  });
  app.post('/api/token', (c) =>
    postToken(c.req.raw, c.env, {
      clients,
      store,
      faults,
      stats,
      rotateRefreshTokens: options.rotateRefreshTokens ?? false,
    }),
  );
  app.use('/v1/*', async (c, next) => {
    const url = new URL(c.req.url);
    stats.webApiRequests += 1;
    stats.lastWebApiRequest = {
      method: c.req.method,
      path: url.pathname,
      headerNames: [...c.req.raw.headers.keys()].sort(),
      queryParams: [...url.searchParams.keys()],
    };
    await next();
  });
  app.get('/v1/me', (c) => {
    stats.meRequests += 1;
    return getMe(c.req.raw, c.env, { store, faults });
  });
  const player = createPlayer({ store, faults, now: options.now ?? Date.now });
  app.get('/v1/me/player', (c) => player.getPlayer(c.req.raw, c.env));
  app.put('/v1/me/player/play', (c) => player.putPlay(c.req.raw, c.env));
  app.get('/v1/me/top/tracks', (c) => player.getTopTracks(c.req.raw, c.env));
  // Any other Web API path: the Web API's own error object, as for an endpoint it does not have.
  app.all('/v1/*', () => webApiError(404, 'Service not found'));
  mountControl(app, {
    faults,
    stats: sandbox.stats,
    reset: sandbox.reset,
    store,
    clients,
    controlToken: sandbox.controlToken,
    peerAddress: options.peerAddress ?? nodePeerAddress,
  });

  app.onError((error, c) => {
    if (error instanceof DroppedConnection) {
      // Let it reach the runtime, which then fails the request without a proper answer.
      throw error;
    }
    console.error(error);
    return c.text('Internal Server Error', 500);
  });
  return sandbox;
}
