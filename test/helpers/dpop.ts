/** Checking the kit's DPoP proofs as a DPoP server does, with jose (panva), not with our own reading. */
import { EmbeddedJWK, jwtVerify } from 'jose';

/** Verifies a proof: the key from its own header, ES256 only, `typ` dpop+jwt (RFC 9449 §4.3). */
export async function verifyProof(proof: string) {
  const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
    typ: 'dpop+jwt',
    algorithms: ['ES256'],
  });
  return { payload, header: protectedHeader };
}

/** A fetch that records the DPoP header of every request it sends on. */
export function recordingFetch(): { fetch: typeof fetch; proofs: { url: string; proof: string | null }[] } {
  const proofs: { url: string; proof: string | null }[] = [];
  return {
    proofs,
    fetch: (input, init) => {
      const headers = new Headers(init?.headers);
      proofs.push({ url: String(input), proof: headers.get('dpop') });
      return fetch(input, init);
    },
  };
}
