/** Waiting on what a `token-swap` subprocess prints on stdout, on its output events rather than a timer. */
import type { CliRun } from './cli.js';

/** Resolves with the first match of `pattern` in the run's stdout; rejects if it ends first. */
export function waitForStdout(run: CliRun, pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
  const { child } = run;
  return new Promise((resolve, reject) => {
    let done = false;
    const settle = (match: RegExpMatchArray | undefined, why?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.off('close', ended);
      if (match) resolve(match);
      else reject(new Error(`${why} ${pattern} in stdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`));
    };
    // `data` listeners run in order: the one that collects the text (helpers/cli.ts) came first.
    function check() {
      const match = run.stdout().match(pattern);
      if (match) settle(match);
    }
    // 'close' comes after the last output, unlike 'exit'.
    function ended() {
      check();
      settle(undefined, 'ended without');
    }
    const timer = setTimeout(() => settle(undefined, 'timed out waiting for'), timeoutMs);
    child.stdout?.on('data', check);
    child.once('close', ended);
    check();
    if (child.exitCode !== null && child.stdout?.closed !== false) ended();
  });
}
