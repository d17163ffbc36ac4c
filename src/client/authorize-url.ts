/** The URL that sends the user to Spotify's consent page (docs/spotify-accounts.md §3). */
import { createPkce, createState } from './pkce.js';

export const SPOTIFY_ACCOUNTS_URL = 'https://accounts.spotify.com';

export interface AuthorizeUrlOptions {
  clientId: string;
  redirectUri: string;
  scopes?: readonly string[];
  /** Ask the user again even when they already approved the app. */
  showDialog?: boolean;
  /** Accounts base URL; the sandbox's when testing. Default `https://accounts.spotify.com`. */
  accountsUrl?: string;
}

export interface AuthorizeRequest {
  url: string;
  /** Compare with the redirect's `state` (the loopback catcher does, in constant time). */
  state: string;
  /** Send it with the code to the swap service, which forwards it to Spotify. */
  codeVerifier: string;
  redirectUri: string;
}

/**
 * Builds an authorize URL with a fresh `state` and a PKCE S256 challenge every time: PKCE protects
 * the code even though a swap service holds the secret (RFC 9700 §2.1.1 recommends it for all clients).
 */
export async function createAuthorizeUrl(options: AuthorizeUrlOptions): Promise<AuthorizeRequest> {
  const state = createState();
  const pkce = await createPkce();
  const base = (options.accountsUrl ?? SPOTIFY_ACCOUNTS_URL).replace(/\/+$/, '');
  const params = new URLSearchParams({
    client_id: options.clientId,
    response_type: 'code',
    redirect_uri: options.redirectUri,
    state,
    code_challenge_method: pkce.codeChallengeMethod,
    code_challenge: pkce.codeChallenge,
  });
  const scopes = [...new Set(options.scopes ?? [])];
  if (scopes.length > 0) {
    params.set('scope', scopes.join(' '));
  }
  if (options.showDialog) {
    params.set('show_dialog', 'true');
  }
  return {
    url: `${base}/authorize?${params.toString()}`,
    state,
    codeVerifier: pkce.codeVerifier,
    redirectUri: options.redirectUri,
  };
}
