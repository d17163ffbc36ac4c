/**
 * How long an access token is good for, as `login`, `status` and `refresh` say it. One rule for all
 * three: the time left counts down in whole minutes, rounded down as a countdown is, so that it never
 * promises more than is left and agrees with the clock time it is shown beside. The login's own end
 * (months away) is said the same way, in days, by its date.
 */

/** `valid until 14:05 (59 min left)`, `valid until 14:05 (40 s left)`, or `expired at 14:05`. */
export function describeExpiry(expiresAt: number, now: number): string {
  const at = new Date(expiresAt).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const left = expiresAt - now;
  if (left <= 0) return `expired at ${at}`;
  const minutes = Math.floor(left / 60_000);
  // Under a minute, seconds; a token still valid never shows "0 s".
  const shown = minutes > 0 ? `${minutes} min` : `${Math.max(1, Math.floor(left / 1000))} s`;
  return `valid until ${at} (${shown} left)`;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A local calendar date, `2026-07-01`: the form the service uses for a login's end. */
export function calendarDate(at: number): string {
  const date = new Date(at);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** `172 days left`, `1 day left`, `5 h left`, `12 min left`: rounded down, never "0". */
export function timeLeft(left: number): string {
  if (left >= 2 * DAY) return `${Math.floor(left / DAY)} days left`;
  if (left >= DAY) return '1 day left';
  if (left >= HOUR) return `${Math.floor(left / HOUR)} h left`;
  return `${Math.max(1, Math.floor(left / MINUTE))} min left`;
}

/** `sign-in needed by 2026-07-01 (172 days left)`, or `the login ended on 2026-07-01` once it has. */
export function describeLoginEnd(endsAt: number, now: number): string {
  const date = calendarDate(endsAt);
  return now >= endsAt
    ? `the login ended on ${date}`
    : `sign-in needed by ${date} (${timeLeft(endsAt - now)})`;
}
