/**
 * How POST /token reads who the client is (src/server/endpoints/client-auth.ts), on hand-built
 * headers and parameters: RFC 6749 §2.3.1's form-encoded Basic credentials, the empty secret, and
 * every refusal with the status and error the RFC gives it.
 */
import { describe, expect, it } from 'vitest';
import { publicClientId } from '../../src/server/endpoints/client-auth.js';
import { OAuthError } from '../../src/server/errors.js';

const params = (fields: Record<string, string> = {}) =>
  new Map(Object.entries(fields).map(([name, value]) => [name, [value] as unknown[]]));
const basic = (credentials: string) => `Basic ${btoa(credentials)}`;

function refusal(authorization: string | undefined, fields: Record<string, string> = {}) {
  try {
    publicClientId(authorization, params(fields));
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    return {
      status: error.status,
      error: error.error,
      basic: error.headers['WWW-Authenticate'] !== undefined,
    };
  }
  throw new Error('not refused');
}

describe('publicClientId', () => {
  it('reads client_id from the body, or from Basic with an empty password, form-decoded', () => {
    expect(publicClientId(undefined, params({ client_id: 'abc' }))).toBe('abc');
    expect(publicClientId(basic('abc:'), params())).toBe('abc');
    expect(publicClientId(basic('a%3Ab%2Bc:'), params())).toBe('a:b+c');
    expect(publicClientId(basic('abc:'), params({ client_id: 'abc', client_secret: '' }))).toBe('abc');
  });

  it('refuses a secret with 401 invalid_client, and says the scheme when Basic was used', () => {
    expect(refusal(basic('abc:secret'))).toEqual({ status: 401, error: 'invalid_client', basic: true });
    expect(refusal(undefined, { client_id: 'abc', client_secret: 'secret' })).toEqual({
      status: 401,
      error: 'invalid_client',
      basic: false,
    });
  });

  it('refuses an Authorization header that is not Basic, or not valid Basic', () => {
    for (const header of ['Bearer abc', 'Basic !!!', basic('no-colon'), `Basic ${btoa('\xff\xfe:')}`]) {
      expect(refusal(header), header).toEqual({ status: 401, error: 'invalid_client', basic: true });
    }
  });

  it('refuses two different ids, and no id at all, as invalid_request', () => {
    expect(refusal(basic('abc:'), { client_id: 'xyz' })).toEqual({
      status: 400,
      error: 'invalid_request',
      basic: false,
    });
    expect(refusal(undefined)).toEqual({ status: 400, error: 'invalid_request', basic: false });
    expect(refusal(basic(':'))).toEqual({ status: 400, error: 'invalid_request', basic: false });
  });

  it('refuses a client id that is no run of visible ASCII as unknown', () => {
    expect(refusal(undefined, { client_id: 'with space' })).toEqual({
      status: 401,
      error: 'invalid_client',
      basic: false,
    });
  });
});
