/**
 * The names a login goes by outside the sealed token: in a store (`loginKey`) and in a log line
 * (`loginLabel`). Both are hashes, so that neither a store's reader nor a log's reader learns a family
 * id, let alone a token.
 */
import { base64url, utf8 } from '../../shared/encoding.js';
import type { AppConfig } from '../config/index.js';
import type { Grant } from '../sealing/index.js';

/**
 * SHA-256 of a text's UTF-8 bytes, base64url. WebCrypto by default; the Node entry brings node:crypto
 * (AppOptions.sha256), because WebCrypto's digest runs as a job on libuv's thread pool and costs
 * about twenty times the CPU for inputs this short, a refresh's largest single cost (docs/benchmarks.md).
 */
export type Sha256 = (text: string) => string | Promise<string>;

export const webSha256: Sha256 = async (text) =>
  base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(text))));

/**
 * The family of a grant. Tokens of the first format and the Ruby service's carry none: theirs is
 * derived from Spotify's refresh token, so that such a token, and the `sts2.` token it is re-sealed
 * into (which keeps the derived id), are one login for revocation.
 */
export async function familyOf(
  app: Pick<AppConfig, 'name' | 'clientId'>,
  grant: Grant,
  sha256: Sha256 = webSha256,
): Promise<string> {
  if (grant.familyId !== undefined) return grant.familyId;
  return (await sha256(['family', app.name, app.clientId, grant.refreshToken].join('\n'))).slice(0, 22);
}

/** What a store calls the login of a family: unique per app, and no family id in it. */
export async function loginKey(
  app: Pick<AppConfig, 'name' | 'clientId'>,
  familyId: string,
  sha256: Sha256 = webSha256,
): Promise<string> {
  return sha256(['login', app.name, app.clientId, familyId].join('\n'));
}

/** What a log line calls a login: enough to follow one through the logs, nothing to act on. */
export function loginLabel(key: string): string {
  return key.slice(0, 12);
}
