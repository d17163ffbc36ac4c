/**
 * Who is calling `POST /token`: a public client (RFC 6749 §2.1), since the app's secret lives here and
 * never in the app. It names itself with `client_id` in the body (§2.3.1, §3.2.1), or with HTTP Basic
 * and an empty password, which several libraries send for `token_endpoint_auth_method` `none`. An
 * empty `client_secret` counts as none (libraries send `client_secret=` or the bare name); a real one
 * is refused, so that an app that carries its secret learns it should not.
 */
import { FIELD_LIMITS } from '../contract.js';
import { invalidRequest, OAuthError } from '../errors.js';
import { type RawParams, single } from './params.js';

const CLIENT_ID = new RegExp(`^[\\x21-\\x7e]{1,${FIELD_LIMITS.clientId}}$`);

/** RFC 6749 §5.2: a client that tried the Authorization header gets 401 with the scheme it may use. */
const basicRefused = (description: string) =>
  new OAuthError(401, 'invalid_client', description, { 'WWW-Authenticate': 'Basic realm="token"' });

const SECRET_REFUSED =
  'This service keeps the client secret: the app must not hold it. Send client_id without a secret (token_endpoint_auth_method none)';

/** RFC 6749 §2.3.1: id and password are form-encoded before Base64. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** The client id of `Authorization: Basic`; undefined without the header. */
function basicClientId(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(authorization);
  if (!match?.[1]) throw basicRefused('Only HTTP Basic with an empty password, or client_id in the body');
  let id: string;
  let password: string;
  try {
    const decoded = new TextDecoder('utf-8', { fatal: true }).decode(
      Uint8Array.from(atob(match[1]), (char) => char.charCodeAt(0)),
    );
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new TypeError('no colon');
    id = formDecode(decoded.slice(0, colon));
    password = formDecode(decoded.slice(colon + 1));
  } catch {
    // Never echoed: what failed to decode may be a secret.
    throw basicRefused('The Authorization header is not valid HTTP Basic');
  }
  if (password !== '') throw basicRefused(SECRET_REFUSED);
  return id;
}

/** The client id the request names, checked for form; throws the OAuth error to answer with. */
export function publicClientId(authorization: string | undefined, params: RawParams): string {
  const fromHeader = basicClientId(authorization);
  const fromBody = single(params, 'client_id');
  if (single(params, 'client_secret') !== undefined) {
    throw new OAuthError(401, 'invalid_client', SECRET_REFUSED);
  }
  // §2.3: one method per request; the same id twice is one, two different ids are no answer at all.
  if (fromHeader !== undefined && fromBody !== undefined && fromHeader !== fromBody) {
    throw invalidRequest('client_id in the body and in the Authorization header differ');
  }
  const clientId = fromHeader ?? fromBody;
  // §4.1.3 and §6: a client that does not authenticate must name itself.
  if (clientId === undefined || clientId === '') throw invalidRequest('The client_id parameter is required');
  if (!CLIENT_ID.test(clientId)) throw new OAuthError(401, 'invalid_client', 'Unknown client_id');
  return clientId;
}
