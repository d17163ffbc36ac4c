/** What `token-swap doctor` reports: one finding per check, with the fix when something is wrong. */

type Severity = 'ok' | 'warn' | 'fail';

export interface Finding {
  severity: Severity;
  /** What was checked, for the person reading. */
  subject: string;
  message: string;
  /** What to do about it; absent for `ok`. */
  fix?: string;
}

export const ok = (subject: string, message: string): Finding => ({ severity: 'ok', subject, message });
export const warn = (subject: string, message: string, fix: string): Finding => ({
  severity: 'warn',
  subject,
  message,
  fix,
});
export const fail = (subject: string, message: string, fix: string): Finding => ({
  severity: 'fail',
  subject,
  message,
  fix,
});

const MARK: Record<Severity, string> = { ok: '✓', warn: '!', fail: '✗' };

export function formatFinding(finding: Finding): string {
  const head = `${MARK[finding.severity]} ${finding.subject}: ${finding.message}`;
  return finding.fix ? `${head}\n    Fix: ${finding.fix}` : head;
}
