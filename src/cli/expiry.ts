/**
 * How long an access token is good for, as `login`, `status` and `refresh` say it. One rule for all
 * three: the time left counts down in whole minutes, rounded down as a countdown is, so that it never
 * promises more than is left and agrees with the clock time it is shown beside.
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
