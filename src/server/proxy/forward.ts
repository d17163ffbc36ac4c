/**
 * One proxied call to the Spotify Web API (docs/sessions.md, "Web API proxy"): the request upstream
 * carries the session's access token and a few content headers of the page's, never its cookie, its
 * Authorization or anything that says who or where it came from; Spotify's status, `Retry-After`,
 * Content-Type and body come back, and nothing else of its headers (no Set-Cookie of Spotify's
 * domain). A call that gets no answer is a JSON 502 or 504, as other upstream faults are.
 */
import { errorResponse, OAuthError } from '../errors.js';

/** How the proxy reaches the Web API; default: the global `fetch`. */
export type ApiFetch = (input: string, init: RequestInit) => Promise<Response>;

/** The page's headers that go upstream: what Spotify needs to read the body and pick a language. */
const FORWARDED_HEADERS = ['accept', 'content-type', 'accept-language'] as const;
/** Spotify's headers that come back: what a page needs to read the answer and to back off. */
const RETURNED_HEADERS = ['content-type', 'retry-after'] as const;

/**
 * The largest answer passed back. Web API answers are pages of at most 50 items, a few hundred KiB at
 * most; an answer that is larger is not one, and is not buffered.
 */
export const MAX_PROXY_ANSWER_BYTES = 4 * 1024 * 1024;

export interface ProxyCall {
  /** The Web API base URL, without a trailing slash. */
  apiUrl: string;
  /** `/v1/...?query`, as the page sent it (still percent-encoded). */
  pathAndQuery: string;
  method: string;
  /** The page's request: its content headers and its body. */
  request: Request;
  authorization: string;
  timeoutMs: number;
  fetch: ApiFetch;
}

export const upstreamError = (description: string) => new OAuthError(502, 'upstream_error', description);
const upstreamTimeout = () =>
  new OAuthError(504, 'upstream_timeout', 'The Spotify Web API did not answer in time');

function upstreamHeaders(call: ProxyCall): Headers {
  const headers = new Headers({ Authorization: call.authorization });
  for (const name of FORWARDED_HEADERS) {
    const value = call.request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return headers;
}

/** The body, read to its end under the call's deadline, or undefined past MAX_PROXY_ANSWER_BYTES. */
async function boundedBody(response: Response): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_PROXY_ANSWER_BYTES) {
    await response.body?.cancel();
    return undefined;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
    size += read.value.length;
    if (size > MAX_PROXY_ANSWER_BYTES) {
      await reader?.cancel();
      return undefined;
    }
    chunks.push(read.value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Spotify's answer as the page gets it: its status, a few headers, its body. */
async function passBack(response: Response): Promise<Response> {
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    return errorResponse(upstreamError('The Spotify Web API answered with a redirect'));
  }
  const bytes = await boundedBody(response);
  if (bytes === undefined) return errorResponse(upstreamError('The Spotify Web API answer is too large'));
  // The user's own data: no shared cache may keep it.
  const headers = new Headers({ 'Cache-Control': 'no-store' });
  for (const name of RETURNED_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const empty = response.status === 204 || bytes.length === 0;
  return new Response(empty ? null : bytes, { status: response.status, headers });
}

const isTimeout = (error: unknown) =>
  error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');

/** Calls the Web API once (never retried: a PUT or POST may have taken effect) and builds the page's answer. */
export async function forward(call: ProxyCall): Promise<Response> {
  const hasBody = call.method !== 'GET' && call.method !== 'HEAD';
  const body = hasBody ? await call.request.arrayBuffer() : undefined;
  const signal = AbortSignal.timeout(call.timeoutMs);
  try {
    const response = await call.fetch(`${call.apiUrl}${call.pathAndQuery}`, {
      method: call.method,
      headers: upstreamHeaders(call),
      body: body && body.byteLength > 0 ? body : undefined,
      redirect: 'manual',
      signal,
    });
    return await passBack(response);
  } catch (error) {
    if (isTimeout(error) || signal.aborted) return errorResponse(upstreamTimeout());
    return errorResponse(upstreamError('The Spotify Web API could not be reached'));
  }
}
