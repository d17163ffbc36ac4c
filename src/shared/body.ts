/**
 * Reading an answer's body with a ceiling, for peers that are not trusted to send a sane amount: a
 * declared length over the ceiling is refused before reading, a streamed one as soon as it passes it,
 * and the rest is not read (the connection is released by cancelling the stream).
 */

/** The body was longer than the reader was willing to read. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  readonly limit: number;

  constructor(limit: number) {
    super(`The body exceeds ${limit} bytes`);
    this.limit = limit;
  }
}

/** The body as text (UTF-8, as `Response.text()` decodes it), or a BodyTooLargeError past `maxBytes`. */
export async function readTextUpTo(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new BodyTooLargeError(maxBytes);
  }
  // A declared length within the ceiling is all the HTTP framing lets through: read it the plain way.
  if (Number.isFinite(declared) || !response.body) return response.text();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
