/**
 * What the page shows when something fails: a stable code and a sentence. The client kit's errors
 * already carry a code (or the swap service's own `error`); DemoError covers the steps only the demo has.
 */
import { AuthorizationError, SwapServiceError, SwapServiceUnreachableError } from '../../client/index.js';

export type DemoErrorCode =
  | 'insecure_context'
  | 'not_logged_in'
  | 'network_error'
  | 'profile_error'
  | 'invalid_grant'
  | 'session_ended';

export class DemoError extends Error {
  override readonly name = 'DemoError';
  readonly code: DemoErrorCode;

  constructor(code: DemoErrorCode, description: string) {
    super(description);
    this.code = code;
  }
}

export interface ShownError {
  code: string;
  /** Empty when the swap service sent an `error` without a description. */
  description: string;
}

export function describeError(error: unknown, serviceUrl: string): ShownError {
  if (error instanceof DemoError) {
    return { code: error.code, description: error.message };
  }
  if (error instanceof AuthorizationError) {
    // Spotify's own `error` from the redirect says more than the kit's generic code for it.
    const code = error.code === 'authorization_error' ? (error.error ?? error.code) : error.code;
    return { code, description: error.message };
  }
  if (error instanceof SwapServiceError) {
    return { code: error.error, description: error.errorDescription ?? '' };
  }
  if (error instanceof SwapServiceUnreachableError) {
    return {
      code: 'network_error',
      description:
        error.code === 'timeout'
          ? `The swap service at ${serviceUrl} did not answer in time.`
          : `Could not reach the swap service at ${serviceUrl}. Check that it is running and reachable.`,
    };
  }
  return { code: 'unexpected_error', description: String(error) };
}
