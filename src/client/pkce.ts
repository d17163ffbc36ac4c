/** PKCE (RFC 7636) and `state` for the authorize request. */
import { pkceChallenge, randomToken } from '../shared/encoding.js';

export interface Pkce {
  /** 64 characters of base64url: inside RFC 7636 §4.1's 43 to 128 unreserved characters. */
  codeVerifier: string;
  /** base64url(SHA-256(verifier)), RFC 7636 §4.2. */
  codeChallenge: string;
  codeChallengeMethod: 'S256';
}

export async function createPkce(): Promise<Pkce> {
  const codeVerifier = randomToken(48);
  return { codeVerifier, codeChallenge: await pkceChallenge(codeVerifier), codeChallengeMethod: 'S256' };
}

/** A fresh, unguessable `state` (RFC 6749 §10.12): 32 random bytes, base64url. */
export function createState(): string {
  return randomToken(32);
}
