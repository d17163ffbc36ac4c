/**
 * The form body of a call to Spotify's token endpoint (src/server/upstream/token-request.ts): the
 * pairs written as they are when nothing needs escaping, otherwise by URLSearchParams; either way the
 * text URLSearchParams writes, for any grant.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formBody } from '../src/server/upstream/token-request.js';

function reference(grant: Record<string, string | undefined>): string {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(grant)) if (value !== undefined) body.set(name, value);
  return body.toString();
}

describe('formBody', () => {
  // Characters on both sides of the as-is set, so that both ways are taken often.
  const text = fc.string({
    unit: fc.constantFrom(...'aZ0*-._ +%&=/:~', '\u00e9', '\ud83c'),
    maxLength: 12,
  });

  it('writes every grant as URLSearchParams does', () => {
    fc.assert(
      fc.property(fc.dictionary(text, fc.option(text, { nil: undefined }), { maxKeys: 5 }), (grant) => {
        expect(formBody(grant)).toBe(reference(grant));
      }),
      { numRuns: 3_000 },
    );
  });

  it('writes a refresh grant as it is, and escapes a redirect URI', () => {
    expect(formBody({ grant_type: 'refresh_token', refresh_token: 'AQB-x_y.z*' })).toBe(
      'grant_type=refresh_token&refresh_token=AQB-x_y.z*',
    );
    expect(
      formBody({
        grant_type: 'authorization_code',
        code: 'c',
        redirect_uri: 'http://127.0.0.1:8888/cb',
        code_verifier: undefined,
      }),
    ).toBe('grant_type=authorization_code&code=c&redirect_uri=http%3A%2F%2F127.0.0.1%3A8888%2Fcb');
  });
});
