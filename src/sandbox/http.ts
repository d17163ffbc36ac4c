/** Small request and response helpers shared by the sandbox's endpoints. */

/** The media type of a Content-Type header, lower-cased, without parameters. */
function mediaType(contentType: string | null): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * Reads a form body. Any other media type counts as no parameters at all, which is how Spotify treats
 * a JSON body (docs/spotify-accounts.md §1: `grant_type parameter is missing`).
 */
export async function readForm(request: Request): Promise<URLSearchParams> {
  if (mediaType(request.headers.get('content-type')) !== 'application/x-www-form-urlencoded') {
    return new URLSearchParams();
  }
  return new URLSearchParams(await request.text());
}

/** JSON with the bare `application/json` media type: some clients compare it exactly (docs/spotify-accounts.md §5). */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
  });
}

/** Appends parameters to a redirect URI, keeping whatever query it already has. */
export function withQuery(uri: string, params: Record<string, string | null | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined) {
      query.append(name, value);
    }
  }
  const joiner = !uri.includes('?') ? '?' : /[?&]$/.test(uri) ? '' : '&';
  // String concatenation rather than URL: re-serialising would rewrite the URI the app registered.
  return `${uri}${joiner}${query.toString()}`;
}

export function redirect(location: string): Response {
  return new Response(null, { status: 302, headers: { Location: location, 'Cache-Control': 'no-store' } });
}
