/**
 * The one timer behind every upstream call's deadline on Node (src/runtimes/node/deadlines.ts), on an
 * injected clock and Vitest's fake timers: each deadline expires once, when due, a cleared one never,
 * and the timer is armed only while something can still expire.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDeadlines } from '../src/runtimes/node/deadlines.js';

let clock = 0;
beforeEach(() => {
  clock = 0;
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => vi.useRealTimers());

function advance(ms: number): void {
  clock += ms;
  vi.advanceTimersByTime(ms);
}

describe('createDeadlines', () => {
  it('expires each deadline once when due, never a cleared one, in one timer for all', () => {
    const deadlines = createDeadlines(() => clock);
    const expired: string[] = [];
    const first = deadlines.add(100, () => expired.push('first'));
    deadlines.add(100, () => expired.push('second'));
    deadlines.add(200, () => expired.push('third'));
    expect(vi.getTimerCount()).toBe(1);
    deadlines.clear(first);

    advance(99);
    expect(expired).toEqual([]);
    advance(1);
    expect(expired).toEqual(['second']);
    advance(100);
    expect(expired).toEqual(['second', 'third']);
    expect(deadlines.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an earlier deadline added later re-arms the timer for it', () => {
    const deadlines = createDeadlines(() => clock);
    const expired: string[] = [];
    deadlines.add(1_000, () => expired.push('long'));
    deadlines.add(10, () => expired.push('short'));
    advance(10);
    expect(expired).toEqual(['short']);
    advance(990);
    expect(expired).toEqual(['short', 'long']);
  });

  it('calls all cleared before they are due: the timer fires once, finds nothing, and is not re-armed', () => {
    const deadlines = createDeadlines(() => clock);
    const expire = vi.fn();
    for (let call = 0; call < 1_000; call++) deadlines.clear(deadlines.add(100, expire));
    expect(vi.getTimerCount()).toBe(1);
    advance(100);
    expect(expire).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});
