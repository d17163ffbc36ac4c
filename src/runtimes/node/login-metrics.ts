/**
 * The metrics of the refresh tokens the service issues (docs/sealed-tokens.md): which key and format
 * the refreshed tokens had (watch the old key's series reach zero before dropping it), how old the
 * logins are (the next wave of expiries), and what was refused, re-sealed, replayed and revoked. Labels
 * are configured or fixed sets; never a token, family id or user.
 */

import { Counter, Histogram, type Registry } from 'prom-client';
import type { Metrics } from '../../server/metrics.js';
import { children } from './metric-children.js';

const DAY = 86_400;
/** Up to Spotify's six months, finer towards the end, where logins are about to expire. */
export const LOGIN_AGE_BUCKETS = [
  3_600,
  DAY,
  7 * DAY,
  30 * DAY,
  60 * DAY,
  90 * DAY,
  120 * DAY,
  150 * DAY,
  166 * DAY,
  173 * DAY,
  180 * DAY,
  184 * DAY,
];

type LoginMetrics = Pick<
  Metrics,
  | 'refreshRefused'
  | 'refreshPresented'
  | 'refreshResealed'
  | 'refreshReplayed'
  | 'revocation'
  | 'loginStoreError'
>;

export function createLoginMetrics(registry: Registry): LoginMetrics {
  const registers = [registry];
  const refused = new Counter({
    name: 'token_swap_refresh_refused_total',
    help: 'Refreshes the service refused itself, before calling Spotify, by app and reason (expired, idle, revoked, reuse, dpop)',
    labelNames: ['app', 'reason'] as const,
    registers,
  });
  const presented = new Counter({
    name: 'token_swap_refresh_token_key_total',
    help: 'Refreshes by the key id and format of the presented token (key: an id derived from the secret, never the secret)',
    labelNames: ['app', 'key', 'format'] as const,
    registers,
  });
  const age = new Histogram({
    name: 'token_swap_refresh_token_age_seconds',
    help: "Age of the login at each refresh: seconds since the user's authorization (tokens that know it)",
    labelNames: ['app'] as const,
    buckets: LOGIN_AGE_BUCKETS,
    registers,
  });
  const resealed = new Counter({
    name: 'token_swap_refresh_resealed_total',
    help: 'Refreshes answered with a new sealed refresh token, by app and reason',
    labelNames: ['app', 'reason'] as const,
    registers,
  });
  const replayed = new Counter({
    name: 'token_swap_refresh_replayed_total',
    help: "A rotated token's predecessor presented within its grace, answered as its first use was",
    labelNames: ['app'] as const,
    registers,
  });
  const revocations = new Counter({
    name: 'token_swap_revocations_total',
    help: 'POST /revoke, by app and outcome (revoked; unknown: the token did not open, answered 200 too)',
    labelNames: ['app', 'outcome'] as const,
    registers,
  });
  const storeErrors = new Counter({
    name: 'token_swap_login_store_errors_total',
    help: 'Calls to the login store (revocations, rotation, last use) that failed, by operation',
    labelNames: ['operation'] as const,
    registers,
  });
  // Every refresh updates these three.
  const presentedCount = children(([app = '', key = '', format = '']) =>
    presented.labels({ app, key, format }),
  );
  const ageOf = children(([app = '']) => age.labels({ app }));
  const resealedCount = children(([app = '', reason = '']) => resealed.labels({ app, reason }));
  return {
    refreshRefused: (app, reason) => refused.inc({ app, reason }),
    refreshPresented: (key, loginAge) => {
      presentedCount(key.app, key.key, key.format).inc();
      if (loginAge !== undefined) ageOf(key.app).observe(loginAge);
    },
    refreshResealed: (app, reason) => resealedCount(app, reason).inc(),
    refreshReplayed: (app) => replayed.inc({ app }),
    revocation: (app, outcome) => revocations.inc({ app, outcome }),
    loginStoreError: (operation) => storeErrors.inc({ operation }),
  };
}
