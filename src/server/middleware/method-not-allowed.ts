/** The last handler of a path: any method its routes did not take is a 405 that says which ones it takes. */
import type { Context, MiddlewareHandler } from 'hono';
import { errorResponse, methodNotAllowed as notAllowed } from '../errors.js';

export interface MethodNotAllowedOptions<C extends Context> {
  /** The `Allow` header: fixed, or per request (e.g. OPTIONS only where CORS is on). */
  allow: string | ((c: C) => string);
}

export function methodNotAllowed<C extends Context = Context>(
  options: MethodNotAllowedOptions<C>,
): MiddlewareHandler {
  const { allow } = options;
  return async function methodNotAllowed(c) {
    return errorResponse(notAllowed(typeof allow === 'string' ? allow : allow(c as C)));
  };
}
