/** How the sandbox answers a request that an injected fault (faults.ts) is for. */
import { type Fault, GARBAGE_BODY, UPSTREAM_RESET_BODY } from './faults.js';

/** The shape of @hono/node-server's `env`, typed structurally so the core needs no Node types. */
interface NodeBindings {
  incoming?: { socket?: { destroy(): void } | null };
}

/** Lets the HTTP adapter know the answer was already dealt with; @hono/node-server then writes nothing. */
const ALREADY_SENT_HEADER = 'x-hono-already-sent';

export class DroppedConnection extends Error {
  override name = 'DroppedConnection';
}

/**
 * Answers a request according to `fault`. Returns undefined when the request should then be handled
 * normally (`slow`, after its delay).
 */
export async function applyFault(fault: Fault, env: unknown): Promise<Response | undefined> {
  switch (fault.kind) {
    case 'slow':
      // A plain timer: if the client gives up, the request still completes, as upstream would.
      await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      return undefined;
    case 'status':
      return new Response(fault.body ?? UPSTREAM_RESET_BODY, {
        status: fault.status,
        headers: { 'Content-Type': fault.contentType ?? 'text/plain' },
      });
    case 'rate-limit': {
      // The Web API's error object (docs/spotify-accounts.md §1, §6). Nothing is documented for the token
      // endpoint's 429 (§1), so it answers the same.
      const reason = fault.reason === undefined ? {} : { reason: fault.reason };
      const error = { status: 429, message: 'API rate limit exceeded', ...reason };
      return new Response(JSON.stringify({ error }), {
        status: 429,
        headers: { 'Content-Type': 'application/json', 'Retry-After': String(fault.retryAfter) },
      });
    }
    case 'garbage':
      return new Response(GARBAGE_BODY, { status: 200, headers: { 'Content-Type': 'application/json' } });
    case 'drop':
      return drop(env);
  }
}

function drop(env: unknown): Response {
  const socket = (env as NodeBindings | undefined)?.incoming?.socket;
  if (!socket) {
    // No socket to cut on this runtime: an exception escaping the fetch handler is the closest thing.
    throw new DroppedConnection('sandbox: drop fault (no socket to destroy on this runtime)');
  }
  socket.destroy();
  return new Response(null, { headers: { [ALREADY_SENT_HEADER]: 'true' } });
}
