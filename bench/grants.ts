/**
 * Supplies of codes and refresh tokens for the load runs: minted by the sandbox in bulk, and for the
 * service, refresh tokens sealed by the service itself.
 */

/**
 * The redirect URI the load runs' codes are minted for and exchanged with: what a command-line client
 * sends, loopback with its own port, allowed by the port-less registration.
 */
export const REDIRECT_URI = 'http://127.0.0.1:8888/callback';

/** The form of a `/swap` of `code`, and of a `/refresh` of `token`, as a client sends them. */
export const swapBody = (code: string) =>
  `code=${encodeURIComponent(code)}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`;
export const refreshBody = (token: string) => `refresh_token=${encodeURIComponent(token)}`;

/** Per mint call: bounds how long one call holds the sandbox's event loop and how big its answer gets. */
const MINT_CHUNK = 50_000;

interface Minted {
  codes: string[];
  refreshTokens: string[];
}

async function mintOnce(accountsUrl: string, body: Record<string, unknown>): Promise<Minted> {
  const response = await fetch(`${accountsUrl}/__sandbox/mint`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 200) {
    throw new Error(`sandbox mint failed: HTTP ${response.status} ${await response.text()}`);
  }
  return (await response.json()) as Minted;
}

/** Authorization codes for `redirectUri`, each good for one exchange within 10 minutes. */
export async function mintCodes(accountsUrl: string, count: number, redirectUri: string): Promise<string[]> {
  let codes: string[] = [];
  while (codes.length < count) {
    const chunk = Math.min(MINT_CHUNK, count - codes.length);
    codes = codes.concat((await mintOnce(accountsUrl, { codes: chunk, redirectUri })).codes);
  }
  return codes;
}

/** Spotify refresh tokens, each from an authorization of its own. */
export async function mintRefreshTokens(accountsUrl: string, count: number): Promise<string[]> {
  let tokens: string[] = [];
  while (tokens.length < count) {
    const chunk = Math.min(MINT_CHUNK, count - tokens.length);
    tokens = tokens.concat((await mintOnce(accountsUrl, { refreshTokens: chunk })).refreshTokens);
  }
  return tokens;
}

/**
 * The service only accepts refresh tokens it sealed, so they are got the way a client gets them:
 * by swapping a code through it.
 */
export async function sealedRefreshTokens(
  serviceUrl: string,
  codes: readonly string[],
  swapBody: (code: string) => string,
  concurrency: number,
): Promise<string[]> {
  const tokens: string[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    for (let code = codes[next++]; code !== undefined; code = codes[next++]) {
      const response = await fetch(`${serviceUrl}/swap`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: swapBody(code),
      });
      const body = (await response.json()) as { refresh_token?: unknown };
      if (response.status !== 200 || typeof body.refresh_token !== 'string') {
        throw new Error(`swap through the service failed: HTTP ${response.status} ${JSON.stringify(body)}`);
      }
      tokens.push(body.refresh_token);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return tokens;
}
