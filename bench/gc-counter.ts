/**
 * A preload (`node --import`) that counts a process's garbage collections, by kind, with a `gc`
 * PerformanceObserver, and writes the totals to `$BENCH_GC_DIR/gc-PID.json` when the process exits.
 * bench/cpu-per-refresh.ts gives it to every server it starts with CPU_GC=1 (bundled to plain
 * JavaScript, through NODE_OPTIONS, so that it survives bin/token-swap.js replacing its own process
 * with the start script's flags). Counting costs a callback per collection, the same in every target.
 */
import { writeFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';

/** Collections and their total duration, per kind. */
export interface GcTotals {
  scavenges: number;
  scavengeMs: number;
  markCompacts: number;
  markCompactMs: number;
  /** Incremental marking steps and weak-callback passes: small, counted apart. */
  other: number;
  otherMs: number;
}

const totals: GcTotals = {
  scavenges: 0,
  scavengeMs: 0,
  markCompacts: 0,
  markCompactMs: 0,
  other: 0,
  otherMs: 0,
};

function count(entries: readonly PerformanceEntry[]): void {
  for (const entry of entries) {
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
      totals.scavenges += 1;
      totals.scavengeMs += entry.duration;
    } else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
      totals.markCompacts += 1;
      totals.markCompactMs += entry.duration;
    } else {
      totals.other += 1;
      totals.otherMs += entry.duration;
    }
  }
}

const directory = process.env.BENCH_GC_DIR;
if (directory) {
  const observer = new PerformanceObserver((list) => count(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  process.once('exit', () => {
    // What was observed but not yet delivered to the callback.
    count(observer.takeRecords());
    writeFileSync(`${directory}/gc-${process.pid}.json`, JSON.stringify(totals));
  });
}
