/**
 * The sealed refresh token: a credential the service issues, so it carries what managing one needs
 * (docs/sealed-tokens.md), authenticated and encrypted so that only the service can read or forge it.
 *
 * `sts2.` + base64url( kid(4) || iv(12) || AES-256-GCM ciphertext+tag ), where
 * - the plaintext is a small JSON object: Spotify's refresh token, the time of the user's original
 *   authorization, the login's family id and generation, when this token was issued, the scope
 *   Spotify granted, and room for a key binding (a DPoP key thumbprint);
 * - the associated data is the prefix, the key id, the app's name and its client id: a token of one
 *   app is refused by every other, even one with the same client id and secret, and a flipped key id
 *   breaks the tag;
 * - the key is HKDF-SHA-256 over the secret (RFC 5869), so any secret of 32+ characters works, and
 *   the IV is random per token (NIST SP 800-38D §8.2.2);
 * - base64url without padding, decoded strictly: `+ / = \n` never appear, so a client that forgets to
 *   URL-encode the token still works, and exactly one text stands for a token.
 *
 * Tokens of the first format, `sts1.` (the bare Spotify refresh token, the client id alone as
 * associated data), keep opening; what they do not carry is reported as unknown, never invented.
 * Every failure to open is the same generic `invalid_grant` (as jose's one decryption message).
 */
import { base64url, fromBase64url, fromUtf8, randomBytes, utf8 } from '../../shared/encoding.js';
import { invalidRefreshToken } from '../errors.js';

export const SEALED_PREFIX = 'sts2.';
export const SEALED_PREFIX_V1 = 'sts1.';
export const KID_BYTES = 4;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
/** The family id: one per login, random. */
const FAMILY_ID_BYTES = 16;
// HKDF parameters, the same for both formats and both implementations (webcrypto.ts, and
// src/runtimes/node/sealing.ts).
export const SALT = utf8('spotify-token-swap sealing');
export const KEY_INFO = utf8('sts1 aes-256-gcm key');
export const KEY_ID_INFO = utf8('sts1 key id');

/** What a sealed refresh token carries. */
export interface Grant {
  /** Spotify's refresh token. */
  refreshToken: string;
  /** When the user authorized at first (epoch seconds), kept across every refresh; undefined: unknown. */
  authTime: number | undefined;
  /** One per login; undefined for a token of the first format, which had none. */
  familyId: string | undefined;
  /** 0 for the token of the code exchange, one more for each token rotated from it. */
  generation: number;
  /** When this very token was issued (epoch seconds); undefined for the first format. */
  issuedAt: number | undefined;
  /** The SHA-256 thumbprint (RFC 7638) of the key the token is bound to, if any. */
  keyBinding?: string;
  /**
   * The scope Spotify granted at the code exchange, as it answered it; undefined for tokens sealed
   * before it was recorded. `POST /token` checks a requested scope against it (RFC 6749 §6).
   */
  scope?: string;
}

/** An opened token: what it carries, and what it was sealed with. */
export interface Opened {
  grant: Grant;
  version: 1 | 2;
  /** The key id, hex: what operators see (never the secret). */
  kid: string;
  /** Which secret opened it: 0 is the one that seals now. */
  keyIndex: number;
}

/** Who a token is for: the associated data binds it to them. */
export interface SealBinding {
  app: string;
  clientId: string;
}

/** One sealing key, whichever cipher implementation it runs on. */
export interface CipherKey {
  kid: Uint8Array;
  encrypt(iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array>;
  /** Throws when the tag does not verify. */
  decrypt(iv: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array>;
}

export interface Sealer {
  /** Seals a grant with the first secret, in the current format. */
  seal(grant: Grant): Promise<string>;
  /** Opens a token of either format with whichever secret sealed it; throws the generic invalid_grant. */
  unseal(sealed: string): Promise<Opened>;
  /** The key id (hex) of each secret, in order: what start-up logs and the metrics label tokens with. */
  keyIds(): Promise<string[]>;
}

/** Makes the sealer of one app; runtimes with a faster cipher than WebCrypto bring their own. */
export type SealerFactory = (secrets: readonly string[], binding: SealBinding) => Sealer;

/** A fresh family id, for the grant of a new login. */
export function newFamilyId(): string {
  return base64url(randomBytes(FAMILY_ID_BYTES));
}

/** Whether a token is framed as one of this service's, of either format (not whether it opens). */
export function isSealedToken(token: string): boolean {
  return token.startsWith(SEALED_PREFIX) || token.startsWith(SEALED_PREFIX_V1);
}

export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The associated data of a token: the prefix and key id, then who it is for. */
export function additionalData(
  version: 1 | 2,
  kid: Uint8Array,
  binding: SealBinding,
): Uint8Array<ArrayBuffer> {
  if (version === 1) return concat(utf8(SEALED_PREFIX_V1), kid, utf8(binding.clientId));
  const app = utf8(binding.app);
  // Length-prefixed, so that no app name and client id can run into another pair's.
  return concat(utf8(SEALED_PREFIX), kid, Uint8Array.of(app.length), app, utf8(binding.clientId));
}

interface Framed {
  version: 1 | 2;
  kid: Uint8Array<ArrayBuffer>;
  iv: Uint8Array<ArrayBuffer>;
  /** Ends with the 16-byte GCM tag. */
  ciphertext: Uint8Array<ArrayBuffer>;
}

/** The parts of a token, or undefined for anything that is not framed as one (prefix, alphabet, length). */
function parseSealed(sealed: string): Framed | undefined {
  const version = sealed.startsWith(SEALED_PREFIX) ? 2 : sealed.startsWith(SEALED_PREFIX_V1) ? 1 : undefined;
  if (version === undefined) return undefined;
  const bytes = fromBase64url(sealed.slice(SEALED_PREFIX.length));
  if (!bytes || bytes.length < KID_BYTES + IV_BYTES + TAG_BYTES + 1) return undefined;
  return {
    version,
    kid: bytes.subarray(0, KID_BYTES),
    iv: bytes.subarray(KID_BYTES, KID_BYTES + IV_BYTES),
    ciphertext: bytes.subarray(KID_BYTES + IV_BYTES),
  };
}

export const isSeconds = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** A sealed plaintext's JSON object, or undefined: ours, but a bug must not pass for one. */
export function plaintextObject(plain: string): Record<string, unknown> | undefined {
  let payload: unknown;
  try {
    payload = JSON.parse(plain);
  } catch {
    return undefined;
  }
  return typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : undefined;
}

/** The grant in a v2 plaintext, checked field by field (it is ours, but a bug must not pass as a token). */
function grantOf(plain: string): Grant | undefined {
  const payload = plaintextObject(plain);
  if (!payload) return undefined;
  const { rt, at, fid, gen, iat, jkt, scp } = payload;
  if (typeof rt !== 'string' || rt === '' || typeof fid !== 'string' || !isSeconds(gen)) return undefined;
  if ((at !== null && !isSeconds(at)) || !isSeconds(iat)) return undefined;
  if (jkt !== undefined && typeof jkt !== 'string') return undefined;
  if (scp !== undefined && typeof scp !== 'string') return undefined;
  const grant: Grant = {
    refreshToken: rt,
    authTime: at ?? undefined,
    familyId: fid,
    generation: gen,
    issuedAt: iat,
  };
  if (jkt !== undefined) grant.keyBinding = jkt;
  if (scp !== undefined) grant.scope = scp;
  return grant;
}

function payloadOf(grant: Grant): string {
  if (grant.familyId === undefined || grant.issuedAt === undefined) {
    throw new TypeError('a grant to seal needs a family id and an issue time');
  }
  return JSON.stringify({
    rt: grant.refreshToken,
    at: grant.authTime ?? null,
    fid: grant.familyId,
    gen: grant.generation,
    iat: grant.issuedAt,
    ...(grant.keyBinding === undefined ? {} : { jkt: grant.keyBinding }),
    ...(grant.scope === undefined ? {} : { scp: grant.scope }),
  });
}

const hex = (bytes: Uint8Array) => [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A key with what every token it opens shares, worked out once rather than per token. */
interface OpeningKey {
  key: CipherKey;
  kid: string;
  aad: Record<1 | 2, Uint8Array<ArrayBuffer>>;
}

function openingKey(key: CipherKey, binding: SealBinding): OpeningKey {
  return {
    key,
    kid: hex(key.kid),
    aad: { 1: additionalData(1, key.kid, binding), 2: additionalData(2, key.kid, binding) },
  };
}

/** A token of the first format carries the bare refresh token: the rest is unknown. */
function firstFormatGrant(refreshToken: string): Grant {
  return { refreshToken, authTime: undefined, familyId: undefined, generation: 0, issuedAt: undefined };
}

async function decryptOrUndefined(
  key: CipherKey,
  iv: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
): Promise<string | undefined> {
  try {
    return fromUtf8(await key.decrypt(iv, aad, ciphertext));
  } catch {
    return undefined;
  }
}

async function open(keys: readonly OpeningKey[], sealed: string): Promise<Opened> {
  const framed = parseSealed(sealed);
  if (!framed) throw invalidRefreshToken();
  const { version, kid, iv, ciphertext } = framed;
  // Key ids are 32 bits, so two secrets can share one: try every key that claims it.
  for (const [keyIndex, candidate] of keys.entries()) {
    if (!sameBytes(candidate.key.kid, kid)) continue;
    const plain = await decryptOrUndefined(candidate.key, iv, candidate.aad[version], ciphertext);
    // Wrong key or tampered: try the next candidate, then fail generically.
    if (plain === undefined) continue;
    const grant = version === 1 ? firstFormatGrant(plain) : grantOf(plain);
    if (grant === undefined || grant.refreshToken === '') break;
    return { grant, version, kid: candidate.kid, keyIndex };
  }
  throw invalidRefreshToken();
}

/** A sealer over some keys, whichever cipher implementation they run on; the first key seals. */
export function sealerFrom(keys: readonly CipherKey[], binding: SealBinding): Sealer {
  if (keys.length === 0) throw new TypeError('a sealer needs at least one secret');
  if (utf8(binding.app).length > 255) throw new TypeError('an app name is at most 255 bytes');
  const opening = keys.map((key) => openingKey(key, binding));
  const current = opening[0] as OpeningKey;
  return {
    async seal(grant) {
      const iv = randomBytes(IV_BYTES);
      const ciphertext = await current.key.encrypt(iv, current.aad[2], utf8(payloadOf(grant)));
      return SEALED_PREFIX + base64url(concat(current.key.kid, iv, ciphertext));
    },

    unseal: (sealed) => open(opening, sealed),
    keyIds: async () => opening.map((key) => key.kid),
  };
}
