/**
 * What `login` learns from the swap service itself: its RFC 8414 metadata (README, "Use it from any
 * OAuth library") says where users authorize (`authorization_endpoint`: Spotify's, or the sandbox's),
 * whether it takes DPoP proofs (`dpop_signing_alg_values_supported`, RFC 9449 §5.1), and, where the
 * service publishes it, the app's client id (`spotify_client_id`: RFC 8414 has no member for it, so a
 * service adds it as an extension, §2 allows that). So `--swap-url` alone is enough for a service that
 * says all three. A service without metadata (an older one, another swap service) is not an error:
 * the flags say it all then.
 */
import { readTextUpTo } from '../shared/body.js';
import type { Writer } from './io.js';
import { oneLine } from './terminal-text.js';

export interface ServiceMetadata {
  /** The Accounts base URL: the `authorization_endpoint` without its `/authorize`. */
  accountsUrl?: string;
  clientId?: string;
  /** The service takes ES256 DPoP proofs: the kit's key. */
  dpop: boolean;
}

const NONE: ServiceMetadata = { dpop: false };
const TIMEOUT_MS = 5_000;
const MAX_METADATA_BYTES = 64 * 1024;

/** RFC 8414 §3.1: the well-known path goes between the host and the issuer's own path. */
export function metadataUrl(swapUrl: string): string {
  const url = new URL(swapUrl);
  return `${url.origin}/.well-known/oauth-authorization-server${url.pathname.replace(/\/+$/, '')}`;
}

function accountsUrlOf(endpoint: unknown): string | undefined {
  if (typeof endpoint !== 'string') return undefined;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return undefined;
  }
  if (!['https:', 'http:'].includes(url.protocol) || url.search || !url.pathname.endsWith('/authorize')) {
    return undefined;
  }
  return `${url.origin}${url.pathname.slice(0, -'/authorize'.length)}`;
}

/** The members `login` uses, each only when well formed: the answer is the network's to shape. */
export function readMetadata(body: unknown, swapUrl: string, stderr: Writer): ServiceMetadata {
  if (typeof body !== 'object' || body === null) return NONE;
  const document = body as Record<string, unknown>;
  // §3.3: metadata whose issuer is not the service asked is not that service's.
  if (document.issuer !== swapUrl) {
    stderr.write(
      `Warning: the service's metadata names another issuer (${oneLine(String(document.issuer)).slice(0, 200)}) than --swap-url ${swapUrl}: not used.\n`,
    );
    return NONE;
  }
  const algs = document.dpop_signing_alg_values_supported;
  const metadata: ServiceMetadata = { dpop: Array.isArray(algs) && algs.includes('ES256') };
  const accountsUrl = accountsUrlOf(document.authorization_endpoint);
  if (accountsUrl) metadata.accountsUrl = accountsUrl;
  const clientId = document.spotify_client_id;
  if (typeof clientId === 'string' && /^[\w-]{1,128}$/.test(clientId)) {
    metadata.clientId = clientId;
  }
  return metadata;
}

/** GET the metadata; nothing (no DPoP, the flags' values) when the service has none or says nonsense. */
export async function fetchServiceMetadata(
  swapUrl: string,
  stderr: Writer,
  fetchImpl: typeof fetch = fetch,
): Promise<ServiceMetadata> {
  try {
    const response = await fetchImpl(metadataUrl(swapUrl), {
      headers: { Accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      return NONE;
    }
    return readMetadata(JSON.parse(await readTextUpTo(response, MAX_METADATA_BYTES)), swapUrl, stderr);
  } catch {
    return NONE;
  }
}
