/**
 * In-memory state of the fake Accounts service: authorization codes, refresh tokens and access
 * tokens, all judged against an injectable clock so tests can expire them without waiting.
 */
import { randomBytes, randomToken } from '../shared/encoding.js';
import { spotifyRefreshTokenEnd } from '../shared/refresh-lifetime.js';

/** RFC 6749 §4.1.2 recommends at most 10 minutes; Spotify's codes are short lived (docs/spotify-accounts.md §1). */
const CODE_TTL_MS = 10 * 60 * 1000;

/** Refresh tokens die 6 months after the user's original authorization (docs/spotify-accounts.md §6). */
const refreshTokenExpiresAt = spotifyRefreshTokenEnd;

// Records are kept for a while after they stop working so that the answer stays the specific one
// ("expired", "revoked") rather than "invalid", then dropped so a long benchmark cannot grow memory forever.
const KEEP_EXPIRED_CODES_MS = 60 * 60 * 1000;
const KEEP_EXPIRED_ACCESS_MS = 60 * 60 * 1000;
const KEEP_REVOKED_REFRESH_MS = 24 * 60 * 60 * 1000;
const KEEP_EXPIRED_REFRESH_MS = 30 * 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 1000;

/**
 * At most this many codes, refresh tokens and access tokens each (about 250 MB in all, measured), so
 * that a sandbox left open to a network cannot be grown until it dies. Past it, the oldest go first:
 * an evicted code or token then answers as an unknown one.
 */
export const MAX_RECORDS_PER_KIND = 100_000;

interface SandboxUser {
  id: string;
  displayName: string;
  email: string;
}

/** One user's consent to one app; every code and token descends from one of these. */
export interface Consent {
  clientId: string;
  scopes: readonly string[];
  authorizedAt: number;
  /** When a control call last moved `authorizedAt` into the past (age.ts), if one did. */
  agedAt?: number;
  user: SandboxUser;
}

export interface CodeGrant {
  consent: Consent;
  /** Exactly as sent to /authorize, port included: the token request must repeat it. */
  redirectUri: string;
  challenge: string | undefined;
  issuedAt: number;
  used: boolean;
}

export interface RefreshGrant {
  consent: Consent;
  revokedAt: number | undefined;
}

export interface AccessGrant {
  /** Undefined for client-credentials tokens, which act for the app and not for a user. */
  consent: Consent | undefined;
  expiresAt: number;
}

export interface IssuedTokens {
  accessToken: string;
  expiresIn: number;
  refreshToken?: string;
}

export class SandboxStore {
  readonly #now: () => number;
  readonly #accessTtlSeconds: number;
  readonly #codes = new Map<string, CodeGrant>();
  readonly #refresh = new Map<string, RefreshGrant>();
  readonly #access = new Map<string, AccessGrant>();
  #lastPrune = Number.NEGATIVE_INFINITY;
  #evicted = 0;

  readonly maxRecordsPerKind: number;

  constructor(now: () => number, accessTtlSeconds: number, maxRecordsPerKind = MAX_RECORDS_PER_KIND) {
    this.#now = now;
    this.#accessTtlSeconds = accessTtlSeconds;
    this.maxRecordsPerKind = maxRecordsPerKind;
  }

  consent(clientId: string, scopes: readonly string[]): Consent {
    // Hex, because Spotify user ids are plain alphanumerics that clients put in URLs unescaped.
    const id = `sandbox-${[...randomBytes(5)].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`;
    return {
      clientId,
      scopes: [...scopes],
      authorizedAt: this.#now(),
      user: { id, displayName: 'Sandbox User', email: `${id}@sandbox.invalid` },
    };
  }

  issueCode(consent: Consent, redirectUri: string, challenge: string | undefined): string {
    this.#prune();
    // Spotify's codes and refresh tokens start with "AQ"; mimic it so length and shape checks are realistic.
    const code = `AQ${randomToken(96)}`;
    this.#remember(this.#codes, code, {
      consent,
      redirectUri,
      challenge,
      issuedAt: this.#now(),
      used: false,
    });
    return code;
  }

  /**
   * Codes are single use: the first call spends the code, whatever the exchange then concludes, so a
   * blindly retried exchange fails as it does at Spotify (docs/spotify-accounts.md §1). Later calls return undefined.
   */
  takeCode(code: string): CodeGrant | undefined {
    const grant = this.#codes.get(code);
    if (!grant || grant.used) {
      return undefined;
    }
    grant.used = true;
    return grant;
  }

  codeExpired(grant: CodeGrant): boolean {
    return this.#now() >= grant.issuedAt + CODE_TTL_MS;
  }

  issueTokens(consent: Consent | undefined, withRefreshToken: boolean): IssuedTokens {
    this.#prune();
    // Spotify's access tokens start with "BQ".
    const accessToken = `BQ${randomToken(120)}`;
    this.#remember(this.#access, accessToken, {
      consent,
      expiresAt: this.#now() + this.#accessTtlSeconds * 1000,
    });
    const issued: IssuedTokens = { accessToken, expiresIn: this.#accessTtlSeconds };
    if (withRefreshToken && consent) {
      issued.refreshToken = `AQ${randomToken(96)}`;
      this.#remember(this.#refresh, issued.refreshToken, { consent, revokedAt: undefined });
    }
    return issued;
  }

  findRefreshToken(token: string): RefreshGrant | undefined {
    return this.#refresh.get(token);
  }

  revoke(grant: RefreshGrant): void {
    grant.revokedAt = this.#now();
  }

  refreshTokenExpired(grant: RefreshGrant): boolean {
    return this.#now() >= this.refreshTokenEnd(grant.consent);
  }

  /** When the refresh tokens of a consent stop working (epoch ms). */
  refreshTokenEnd(consent: Consent): number {
    return refreshTokenExpiresAt(consent.authorizedAt);
  }

  /** Whether the refresh tokens of a consent have stopped working. */
  loginEnded(consent: Consent): boolean {
    return this.#now() >= this.refreshTokenEnd(consent);
  }

  /**
   * Moves the user's authorization `ms` into the past, for every code and token of that consent, so
   * that a test reaches the end of a login without waiting for it.
   */
  age(consent: Consent, ms: number): void {
    consent.authorizedAt -= ms;
    consent.agedAt = this.#now();
  }

  /** Every consent that still has a code or a token here, each once. */
  consents(): Set<Consent> {
    const found = new Set<Consent>();
    for (const grant of this.#codes.values()) found.add(grant.consent);
    for (const grant of this.#refresh.values()) found.add(grant.consent);
    for (const grant of this.#access.values()) if (grant.consent) found.add(grant.consent);
    return found;
  }

  findAccessToken(token: string): AccessGrant | undefined {
    return this.#access.get(token);
  }

  accessTokenExpired(grant: AccessGrant): boolean {
    return this.#now() >= grant.expiresAt;
  }

  /** How many records were evicted to stay within MAX_RECORDS_PER_KIND, since the start. */
  get evicted(): number {
    return this.#evicted;
  }

  /** Adds a record, evicting the oldest of its kind (Maps iterate in insertion order) when full. */
  #remember<T>(records: Map<string, T>, key: string, value: T): void {
    while (records.size >= this.maxRecordsPerKind) {
      const oldest = records.keys().next();
      if (oldest.done) break;
      records.delete(oldest.value);
      this.#evicted += 1;
    }
    records.set(key, value);
  }

  #prune(): void {
    const now = this.#now();
    if (now - this.#lastPrune < PRUNE_EVERY_MS) {
      return;
    }
    this.#lastPrune = now;
    for (const [code, grant] of this.#codes) {
      if (now >= grant.issuedAt + CODE_TTL_MS + KEEP_EXPIRED_CODES_MS) {
        this.#codes.delete(code);
      }
    }
    for (const [token, grant] of this.#access) {
      if (now >= grant.expiresAt + KEEP_EXPIRED_ACCESS_MS) {
        this.#access.delete(token);
      }
    }
    for (const [token, grant] of this.#refresh) {
      const revokedLongAgo =
        grant.revokedAt !== undefined && now >= grant.revokedAt + KEEP_REVOKED_REFRESH_MS;
      // An aged grant counts from its ageing: it has to answer "expired" first, not vanish at once.
      const ended = Math.max(refreshTokenExpiresAt(grant.consent.authorizedAt), grant.consent.agedAt ?? 0);
      const expiredLongAgo = now >= ended + KEEP_EXPIRED_REFRESH_MS;
      if (revokedLongAgo || expiredLongAgo) {
        this.#refresh.delete(token);
      }
    }
  }
}
