/** What `login` takes from a swap service's metadata, and what it refuses of it (src/cli/service-metadata.ts). */
import { describe, expect, it } from 'vitest';
import { metadataUrl, readMetadata } from '../src/cli/service-metadata.js';

const SWAP = 'https://swap.example.com';

function read(document: Record<string, unknown>) {
  let err = '';
  const metadata = readMetadata({ issuer: SWAP, ...document }, SWAP, {
    write: (text: string) => (err += text),
  });
  return { metadata, err };
}

describe('the service metadata login reads', () => {
  it('lives at the path-inserted well-known URL of the swap URL (RFC 8414 §3.1)', () => {
    expect(metadataUrl(SWAP)).toBe(`${SWAP}/.well-known/oauth-authorization-server`);
    expect(metadataUrl(`${SWAP}/apps/ios/`)).toBe(`${SWAP}/.well-known/oauth-authorization-server/apps/ios`);
  });

  it('gives the Accounts URL, the client id and DPoP with ES256', () => {
    const { metadata, err } = read({
      authorization_endpoint: 'https://accounts.spotify.com/authorize',
      dpop_signing_alg_values_supported: ['EdDSA', 'ES256'],
      spotify_client_id: 'abc123',
    });
    expect(metadata).toEqual({ accountsUrl: 'https://accounts.spotify.com', clientId: 'abc123', dpop: true });
    expect(err).toBe('');
  });

  it('uses no DPoP without ES256, and ignores a malformed endpoint or client id', () => {
    const { metadata } = read({
      authorization_endpoint: 'javascript:alert(1)//authorize',
      dpop_signing_alg_values_supported: ['RS256'],
      spotify_client_id: 'id with spaces\u001b[2J',
    });
    expect(metadata).toEqual({ dpop: false });
    expect(read({ authorization_endpoint: 'https://a.example/authorize?x=1' }).metadata).toEqual({
      dpop: false,
    });
    expect(read({ authorization_endpoint: 'https://a.example/login' }).metadata).toEqual({ dpop: false });
  });

  it("refuses metadata of another issuer (§3.3), and says so on one line without the terminal's controls", () => {
    let err = '';
    const metadata = readMetadata(
      { issuer: 'https://evil.example\u001b]0;x\u0007\n', dpop_signing_alg_values_supported: ['ES256'] },
      SWAP,
      { write: (text: string) => (err += text) },
    );
    expect(metadata).toEqual({ dpop: false });
    expect(err).toBe(
      `Warning: the service's metadata names another issuer (https://evil.example ) than --swap-url ${SWAP}: not used.\n`,
    );
  });
});
