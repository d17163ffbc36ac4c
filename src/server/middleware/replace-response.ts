/** Puts a rebuilt answer (answer.ts's `withHeaders`) in place of the context's response. */
import type { Context } from 'hono';

export function replaceResponse(c: Context, response: Response): void {
  if (response === c.res) return;
  // Hono's setter would copy the old response's headers onto the new one, reading them as a Web
  // `Headers` object, the very cost the rebuild avoids: unset first, then set.
  c.res = undefined;
  c.res = response;
}
