/**
 * The login store on Workers (src/server/logins/store.ts): a Durable Object per login, named by its
 * login key (`idFromName`), holding that login's one record. The semantics are the memory store's
 * (`createMemoryLoginStore`, the reference) and the Redis store's, operation for operation.
 *
 * Why one object per login: an object runs one event at a time wherever its callers are, so a
 * rotation's compare-and-set is a plain read, compare and write in it (under
 * `blockConcurrencyWhile`, so that no other request of the same login runs between the read and the
 * write); and logins never contend with each other, so the store scales with the number of logins.
 *
 * Expiry, two ways: a record past its `untilMs` reads as absent, so a login ends exactly when its
 * token would have, however late the alarm runs (alarms are retried and may be late); and an alarm
 * at `untilMs` deletes the object's storage, so a login that is never presented again (most are)
 * does not keep a record for ever. `untilMs` only ever moves later, as in the other stores.
 */
import type { LoginRecord } from '../../server/logins/store.js';
import { LOGIN_REQUEST, type LoginAnswer, type LoginOperation, type LoginRequest } from './login-wire.js';
import type { DurableObjectState } from './platform.js';

/** The one storage key of an object: its login's record and until when it is kept. */
const HELD = 'login';
/** Or, in an object named by a DPoP proof's key, until when that proof is remembered. */
const PROOF = 'proof';

interface Held {
  record: LoginRecord;
  untilMs: number;
}

/** Answers on the object's own stub only: the Worker is its sole caller, never a client. */
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

export class LoginObject {
  readonly #state: DurableObjectState;

  constructor(state: DurableObjectState, _env: unknown) {
    this.#state = state;
  }

  async fetch(request: Request): Promise<Response> {
    const operation = new URL(request.url).pathname.slice(1);
    const body: unknown = request.method === 'POST' ? await request.json().catch(() => undefined) : undefined;
    const parsed = LOGIN_REQUEST.safeParse(typeof body === 'object' ? { ...body, operation } : undefined);
    if (!parsed.success) {
      return json(400, {
        error: 'invalid_request',
        error_description: `not a login store request: ${request.method} /${operation}`,
      });
    }
    return json(200, await this.#state.blockConcurrencyWhile(() => this.#run(parsed.data)));
  }

  /** At `untilMs`: the record is over, unless a later write kept it longer (then: wake again then). */
  async alarm(): Promise<void> {
    const { storage } = this.#state;
    const held = await storage.get<Held>(HELD);
    if (held && held.untilMs > Date.now()) await storage.setAlarm(held.untilMs);
    else await storage.deleteAll();
  }

  async #run(request: LoginRequest): Promise<LoginAnswer<LoginOperation>> {
    const stored = await this.#state.storage.get<Held>(HELD);
    const live = stored && stored.untilMs > request.now ? stored : undefined;
    const record = live?.record;
    switch (request.operation) {
      case 'get':
        return { record: record ?? null };
      case 'revoke':
        await this.#put(live, { ...record, revoked: true }, request.untilMs);
        return {};
      case 'rotate': {
        const { next } = request;
        if (record?.revoked || (record?.generation ?? null) !== request.expected) return { rotated: false };
        await this.#put(live, { ...record, ...next, lastUsedAt: next.rotatedAt }, request.untilMs);
        return { rotated: true };
      }
      case 'touch':
        if ((record?.lastUsedAt ?? 0) >= request.atMs) return {};
        await this.#put(live, { ...record, lastUsedAt: request.atMs }, request.untilMs);
        return {};
      case 'seenJti':
        return { seen: await this.#seen(request.now, request.untilMs) };
    }
  }

  /** Set if absent: the object runs one event at a time, so of two requests with one proof, one sets it. */
  async #seen(now: number, untilMs: number): Promise<boolean> {
    const { storage } = this.#state;
    const until = await storage.get<number>(PROOF);
    if (until !== undefined && until > now) return true;
    await storage.put(PROOF, untilMs);
    // The alarm finds no login record and deletes the object's storage (alarm() above).
    await storage.setAlarm(untilMs);
    return false;
  }

  async #put(live: Held | undefined, record: LoginRecord, untilMs: number): Promise<void> {
    const { storage } = this.#state;
    const held: Held = { record, untilMs: Math.max(untilMs, live?.untilMs ?? 0) };
    await storage.put(HELD, held);
    // setAlarm replaces the one alarm an object has: only when the end moved (it never moves earlier).
    if (held.untilMs !== live?.untilMs) await storage.setAlarm(held.untilMs);
  }
}
