/**
 * The session cookie of the token-mediating backend (session/handlers.ts): what it holds, sealed with
 * the app's sealing secrets, and how it is written and read. The IETF browser-apps BCP wants a token
 * held in a cookie encrypted, and `__Host-`, `Secure`, `HttpOnly`, `SameSite=Strict`, `Path=/`, no
 * `Domain` (docs/sessions.md).
 *
 * `tsc1.` + base64url( iv(12) || AES-256-GCM ciphertext+tag ). The key is HKDF-SHA-256 over the
 * sealing secret with an info of its own, and the associated data is the prefix, the app's name and
 * its client id: a cookie value is refused as a refresh token (another key, another prefix) and a
 * sealed refresh token is refused as a cookie, by this app and by every other.
 */
import { generateCookie } from 'hono/cookie';
import { parse } from 'hono/utils/cookie';
import { base64url, fromBase64url, fromUtf8, randomBytes, utf8 } from '../../shared/encoding.js';
import { concat, isSeconds, plaintextObject, SALT } from '../sealing/index.js';

export const COOKIE_NAME = '__Host-token-swap';
/** The attributes every session cookie carries; Chromium keeps them on http://127.0.0.1 too (test/session-browser.test.ts). */
export const COOKIE_ATTRIBUTES = 'Path=/; Secure; HttpOnly; SameSite=Strict';

const PREFIX = 'tsc1.';
const IV_BYTES = 12;
const KEY_INFO = utf8('tsc1 session cookie aes-256-gcm key');
/** Browsers keep cookies of up to 4096 bytes; a larger value is no cookie of ours. */
const MAX_VALUE_CHARS = 4096;

/** What the cookie holds: the sealed refresh token, and the current access token while it lasts. */
export interface SessionContents {
  /** The service's sealed refresh token (`sts2.`), as /swap would have handed it out. */
  refreshToken: string;
  /** When the login ends (epoch seconds), when known: the cookie's life. */
  loginEnd?: number;
  access?: {
    token: string;
    tokenType: string;
    /** Epoch seconds. */
    expiresAt: number;
    scope?: string;
  };
}

export interface CookieSealer {
  seal(contents: SessionContents): Promise<string>;
  /** Undefined for anything that does not open: forged, tampered, another app's, a rotated-out secret. */
  open(value: string): Promise<SessionContents | undefined>;
}

async function deriveKey(secret: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', utf8(secret), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: SALT, info: KEY_INFO },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

function associatedData(app: string, clientId: string): Uint8Array<ArrayBuffer> {
  const name = utf8(app);
  return concat(utf8(PREFIX), Uint8Array.of(name.length), name, utf8(clientId));
}

/** The contents in a plaintext, checked field by field: ours, but a bug must not pass as a session. */
function contentsOf(plain: string): SessionContents | undefined {
  const payload = plaintextObject(plain);
  if (!payload) return undefined;
  const { rt, end, at } = payload;
  if (typeof rt !== 'string' || rt === '') return undefined;
  const contents: SessionContents = { refreshToken: rt };
  if (isSeconds(end)) contents.loginEnd = end;
  if (typeof at === 'object' && at !== null) {
    const { t, tt, exp, scp } = at as Record<string, unknown>;
    if (typeof t === 'string' && typeof tt === 'string' && isSeconds(exp)) {
      contents.access = { token: t, tokenType: tt, expiresAt: exp };
      if (typeof scp === 'string') contents.access.scope = scp;
    }
  }
  return contents;
}

function payloadOf(contents: SessionContents): string {
  const { access } = contents;
  return JSON.stringify({
    rt: contents.refreshToken,
    end: contents.loginEnd,
    at: access && { t: access.token, tt: access.tokenType, exp: access.expiresAt, scp: access.scope },
  });
}

/** The first secret seals; every one opens, so that a key rotation logs no browser out. */
export function createCookieSealer(
  secrets: readonly string[],
  binding: { app: string; clientId: string },
): CookieSealer {
  if (secrets.length === 0) throw new TypeError('a cookie sealer needs at least one secret');
  let keys: Promise<CryptoKey[]> | undefined;
  const ready = () => (keys ??= Promise.all(secrets.map(deriveKey)));
  const aad = associatedData(binding.app, binding.clientId);
  return {
    async seal(contents) {
      const [key] = await ready();
      if (!key) throw new TypeError('a cookie sealer needs at least one secret');
      const iv = randomBytes(IV_BYTES);
      const sealed = new Uint8Array(
        await crypto.subtle.encrypt(
          { name: 'AES-GCM', iv, additionalData: aad },
          key,
          utf8(payloadOf(contents)),
        ),
      );
      const out = new Uint8Array(IV_BYTES + sealed.length);
      out.set(iv);
      out.set(sealed, IV_BYTES);
      return PREFIX + base64url(out);
    },
    async open(value) {
      if (!value.startsWith(PREFIX) || value.length > MAX_VALUE_CHARS) return undefined;
      const bytes = fromBase64url(value.slice(PREFIX.length));
      if (!bytes || bytes.length <= IV_BYTES + 16) return undefined;
      const iv = bytes.subarray(0, IV_BYTES);
      const ciphertext = bytes.subarray(IV_BYTES);
      for (const key of await ready()) {
        try {
          const plain = await crypto.subtle.decrypt(
            { name: 'AES-GCM', iv, additionalData: aad },
            key,
            ciphertext,
          );
          return contentsOf(fromUtf8(new Uint8Array(plain)));
        } catch {
          // Not this secret's: try the next one.
        }
      }
      return undefined;
    },
  };
}

const ATTRIBUTES = { path: '/', secure: true, httpOnly: true, sameSite: 'Strict' } as const;

/** The `Set-Cookie` value that stores a session, living `maxAgeSeconds` (the login's remaining life). */
export function sessionCookie(value: string, maxAgeSeconds: number | undefined): string {
  return generateCookie(COOKIE_NAME, value, {
    ...ATTRIBUTES,
    ...(maxAgeSeconds === undefined ? {} : { maxAge: Math.max(0, Math.floor(maxAgeSeconds)) }),
  });
}

/** The `Set-Cookie` value that ends the session in the browser. */
export function clearedCookie(): string {
  return generateCookie(COOKIE_NAME, '', { ...ATTRIBUTES, maxAge: 0 });
}

/** The session cookie's value in a `Cookie` header, if any. */
export function readSessionCookie(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return parse(header, COOKIE_NAME)[COOKIE_NAME];
}
