/**
 * The rules of the refresh tokens the service issues (docs/sealed-tokens.md): how long a login lives,
 * how long it may sit unused, and whether every refresh rotates the token with reuse detection. Read
 * from REFRESH_TOKEN_* variables for the environment's app and from `refreshToken*` fields of an app in
 * the apps file, with the same parsing and bounds.
 */
import * as z from 'zod/mini';
import { addIssue } from './zod-mini.js';

/** Seconds in the units a duration may be written in: `180d`, `12h`, `30m`, `45s`, or bare seconds. */
const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400 };
const DURATION = /^(\d{1,9})\s*([smhd]?)$/;

const DAY = 86_400;
/**
 * The longest six calendar months can be (184 days): Spotify ends a login then whatever the service
 * says (docs/spotify-accounts.md §6), so a longer maximum age would only promise what Spotify will not keep.
 */
export const MAX_LOGIN_SECONDS = 184 * DAY;
/** The predecessor's grace lets a lost answer or a second tab through; minutes would defeat detection. */
export const MAX_REUSE_GRACE_SECONDS = 300;
export const DEFAULT_REUSE_GRACE_SECONDS = 30;

export interface RefreshTokenPolicy {
  /** Seconds from the user's authorization to the end of the login; undefined: Spotify's six months. */
  readonly maxAgeSeconds: number | undefined;
  /** Seconds a login may go without a refresh before it is refused; undefined: no idle limit. */
  readonly idleTimeoutSeconds: number | undefined;
  /** Every refresh hands out a new sealed token; presenting an older one again revokes the login. */
  readonly rotation: boolean;
  /** How long the immediate predecessor of the newest token still gets the answer of its first use. */
  readonly reuseGraceSeconds: number;
}

export const DEFAULT_REFRESH_TOKEN_POLICY: RefreshTokenPolicy = Object.freeze({
  maxAgeSeconds: undefined,
  idleTimeoutSeconds: undefined,
  rotation: false,
  reuseGraceSeconds: DEFAULT_REUSE_GRACE_SECONDS,
});

/** Seconds from a duration as written (`180d`, `3600`), or a sentence saying what is wrong. */
export function parseDuration(value: string | number, min: number, max: number): number | string {
  let seconds: number;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return 'must be a whole number of seconds';
    seconds = value;
  } else {
    const match = DURATION.exec(value.trim());
    if (!match) return 'must be a number of seconds or a duration such as 180d, 12h, 30m or 45s';
    seconds = Number(match[1]) * (UNITS[match[2] || 's'] ?? 1);
  }
  if (seconds < min) return `must be at least ${describeSeconds(min)}`;
  if (seconds > max) return `must be at most ${describeSeconds(max)}`;
  return seconds;
}

/** `184 days`, `5 minutes`, `30 seconds`: bounds as a person reads them. */
export function describeSeconds(seconds: number): string {
  for (const [unit, size] of [
    ['day', DAY],
    ['hour', 3_600],
    ['minute', 60],
  ] as const) {
    if (seconds >= size && seconds % size === 0) {
      const count = seconds / size;
      return `${count} ${unit}${count === 1 ? '' : 's'}`;
    }
  }
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}

/** A duration field, from a variable's string or a file's string or number. */
export const duration = (min: number, max: number) =>
  z.pipe(
    z.union([z.string(), z.number()]),
    z.transform((value, ctx) => {
      const parsed = parseDuration(value, min, max);
      if (typeof parsed === 'string') {
        addIssue(ctx, parsed);
        return z.NEVER;
      }
      return parsed;
    }),
  );

/** `1`, `true`, `yes`, `on` and their opposites: what operators write for a switch. */
export const flag = z.pipe(
  z.union([z.string(), z.boolean()]),
  z.transform((value, ctx) => {
    if (typeof value === 'boolean') return value;
    const word = value.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(word)) return true;
    if (['0', 'false', 'no', 'off'].includes(word)) return false;
    addIssue(ctx, 'must be 1 or 0 (or true/false)');
    return z.NEVER;
  }),
);

export const MAX_AGE = duration(3_600, MAX_LOGIN_SECONDS);
export const IDLE_TIMEOUT = duration(60, MAX_LOGIN_SECONDS);
export const REUSE_GRACE = duration(0, MAX_REUSE_GRACE_SECONDS);

/**
 * What is wrong with a policy as a whole, by the field it concerns (`maxAge`, `idleTimeout`,
 * `rotation`): limits that contradict each other, or that an unsealed app cannot keep.
 */
export function refreshTokenPolicyProblems(
  policy: RefreshTokenPolicy,
  sealed: boolean,
): { field: 'maxAge' | 'idleTimeout' | 'rotation'; message: string }[] {
  const problems: { field: 'maxAge' | 'idleTimeout' | 'rotation'; message: string }[] = [];
  const { maxAgeSeconds, idleTimeoutSeconds } = policy;
  if (idleTimeoutSeconds !== undefined && idleTimeoutSeconds >= (maxAgeSeconds ?? MAX_LOGIN_SECONDS)) {
    problems.push({ field: 'idleTimeout', message: 'must be shorter than the maximum age of a login' });
  }
  if (!sealed) {
    // An unsealed token is Spotify's own: it carries no authorization time, family or generation.
    const needs = 'needs sealed refresh tokens (a sealing secret instead of `none`)';
    if (maxAgeSeconds !== undefined) problems.push({ field: 'maxAge', message: needs });
    if (idleTimeoutSeconds !== undefined) problems.push({ field: 'idleTimeout', message: needs });
    if (policy.rotation) problems.push({ field: 'rotation', message: needs });
  }
  return problems;
}
