/**
 * Server-provided DPoP nonces (RFC 9449 §8), with DPOP_NONCE=1: a proof must carry a `nonce` this
 * service handed out within the last minute or two, so a proof signed ahead of time (a device briefly
 * in an attacker's hands) stops working soon. Stateless, so that
 * every replica takes every other's: a nonce is a minute's number and its HMAC under a key derived
 * from the app's first sealing secret, and nothing is stored.
 */

import { base64url, timingSafeEqual, utf8 } from '../../shared/encoding.js';
import { withHeaders } from '../answer.js';
import { OAuthError } from '../errors.js';
import type { TokenHandlers } from './tokens.js';

/** A nonce is good for the minute it was made in and the next one. */
const WINDOW_MS = 60_000;
const MAC_BYTES = 16;
const SALT = utf8('spotify-token-swap dpop-nonce v1');

export interface NonceSource {
  /** A fresh nonce, for the `DPoP-Nonce` header of every answer (§8.2). */
  issue(): Promise<string>;
  /** Throws `use_dpop_nonce` with a fresh nonce unless `nonce` is a recent one of this app's. */
  check(nonce: unknown): Promise<void>;
}

export function createNonceSource(secret: string, now: () => number): NonceSource {
  const key = (async () => {
    const material = await crypto.subtle.importKey('raw', utf8(secret), 'HKDF', false, ['deriveKey']);
    return crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt: SALT, info: utf8('nonce key') },
      material,
      { name: 'HMAC', hash: 'SHA-256', length: 256 },
      false,
      ['sign'],
    );
  })();

  async function nonceOf(window: number): Promise<string> {
    const mac = await crypto.subtle.sign('HMAC', await key, utf8(String(window)));
    return `${window}.${base64url(new Uint8Array(mac).slice(0, MAC_BYTES))}`;
  }

  const issue = () => nonceOf(Math.floor(now() / WINDOW_MS));

  return {
    issue,
    async check(nonce) {
      const current = Math.floor(now() / WINDOW_MS);
      if (typeof nonce === 'string') {
        const window = Number(nonce.split('.', 1)[0]);
        if (
          (window === current || window === current - 1) &&
          (await timingSafeEqual(nonce, await nonceOf(window)))
        ) {
          return;
        }
      }
      throw new OAuthError(
        400,
        'use_dpop_nonce',
        'Sign the DPoP proof again with the nonce of the DPoP-Nonce header',
        {
          'DPoP-Nonce': await issue(),
        },
      );
    },
  };
}

/** §8.2: with DPOP_NONCE, every answer hands out a fresh nonce, so a client seldom needs a round trip. */
export async function withDpopNonce(
  handlers: Pick<TokenHandlers, 'dpopNonce'>,
  response: Response,
): Promise<Response> {
  return handlers.dpopNonce ? withHeaders(response, { 'DPoP-Nonce': await handlers.dpopNonce() }) : response;
}
