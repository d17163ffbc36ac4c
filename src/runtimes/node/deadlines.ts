/**
 * Deadlines of the upstream calls in flight, watched by one timer for all of them. A timer and an
 * AbortController per call (with its listener and the Web `AbortSignal` machinery) were a measured
 * share of every refresh's CPU time (docs/benchmarks.md); here a call costs a Set entry. The timer is
 * armed for the earliest deadline; when it fires it expires what is due and re-arms for the next, so
 * under steady load it fires about once per timeout, not once per call.
 */

export interface Deadline {
  /** When it expires, on the clock of `now`. */
  readonly at: number;
}

export interface Deadlines {
  /** Calls `expire` once, `ms` from now, unless `clear`ed before. */
  add(ms: number, expire: () => void): Deadline;
  clear(deadline: Deadline): void;
  /** How many are pending (tests). */
  readonly size: number;
}

interface Entry extends Deadline {
  expire(): void;
}

export function createDeadlines(now: () => number = () => performance.now()): Deadlines {
  const pending = new Set<Entry>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let armedFor = Number.POSITIVE_INFINITY;

  function arm(at: number): void {
    if (at >= armedFor) return;
    if (timer !== undefined) clearTimeout(timer);
    armedFor = at;
    timer = setTimeout(fire, Math.max(0, Math.ceil(at - now())));
    // The call's own socket keeps the process alive while it is in flight; this timer must not.
    timer.unref();
  }

  function fire(): void {
    timer = undefined;
    armedFor = Number.POSITIVE_INFINITY;
    const current = now();
    let next = Number.POSITIVE_INFINITY;
    for (const entry of pending) {
      if (entry.at <= current) {
        pending.delete(entry);
        entry.expire();
      } else if (entry.at < next) {
        next = entry.at;
      }
    }
    if (next !== Number.POSITIVE_INFINITY) arm(next);
  }

  return {
    add(ms, expire) {
      const entry: Entry = { at: now() + ms, expire };
      pending.add(entry);
      arm(entry.at);
      return entry;
    },
    clear(deadline) {
      // The timer stays armed: it is unref'd, and when it fires with nothing due it is not re-armed.
      // Clearing it whenever none is pending would bring back a timer per call on an idle service.
      pending.delete(deadline as Entry);
    },
    get size() {
      return pending.size;
    },
  };
}
