/**
 * The names a login goes by outside the sealed token: in a store (`loginKey`) and in a log line
 * (`loginLabel`). Both are hashes, so that neither a store's reader nor a log's reader learns a family
 * id, let alone a token.
 */
import { base64url, utf8 } from '../../shared/encoding.js';
import type { AppConfig } from '../config/index.js';
import type { Grant } from '../sealing/index.js';

async function sha256(text: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(text))));
}

/**
 * The family of a grant. Tokens of the first format and the Ruby service's carry none: theirs is
 * derived from Spotify's refresh token, so that such a token, and the `sts2.` token it is re-sealed
 * into (which keeps the derived id), are one login for revocation.
 */
export async function familyOf(app: Pick<AppConfig, 'name' | 'clientId'>, grant: Grant): Promise<string> {
  if (grant.familyId !== undefined) return grant.familyId;
  return (await sha256(['family', app.name, app.clientId, grant.refreshToken].join('\n'))).slice(0, 22);
}

/** What a store calls the login of a family: unique per app, and no family id in it. */
export function loginKey(app: Pick<AppConfig, 'name' | 'clientId'>, familyId: string): Promise<string> {
  return sha256(['login', app.name, app.clientId, familyId].join('\n'));
}

/** What a log line calls a login: enough to follow one through the logs, nothing to act on. */
export function loginLabel(key: string): string {
  return key.slice(0, 12);
}
