/**
 * How the CLI fails: commands throw, and the runner (main.ts) turns what they threw into one line
 * on stderr and an exit code. Failures a person can fix get a sentence; anything else is a bug and
 * is printed in full.
 */
import {
  AuthorizationError,
  LoginRequiredError,
  SwapServiceError,
  SwapServiceUnreachableError,
} from '../client/index.js';
import { TokenStoreError } from '../client/node/index.js';
import { ShutdownError } from '../runtimes/node/server.js';
import { ConfigError } from '../server/config/index.js';
import { EnvFileError } from './env.js';
import { loginCommand } from './login-command.js';

/** Exit codes, so scripts can tell failures apart (README, "Log in from the command line"). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  loginRequired: 3,
  serviceUnavailable: 4,
  authorizationFailed: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliFailure extends Error {
  override readonly name = 'CliFailure';
  readonly exitCode: ExitCode;
  /** Print the command's usage before the message: the command line itself was wrong. */
  readonly showUsage: boolean;

  constructor(message: string, exitCode: ExitCode = EXIT.failure, options: { showUsage?: boolean } = {}) {
    super(message);
    this.exitCode = exitCode;
    this.showUsage = options.showUsage ?? false;
  }
}

/** A usage error that shows the usage: an unknown command, option or argument. */
export function usageFailure(message: string): CliFailure {
  return new CliFailure(message, EXIT.usage, { showUsage: true });
}

/** "Log in (again)", with the command to run: `command` holds what the CLI knows of the login. */
export function loginRequiredFailure(error: LoginRequiredError, command: string): CliFailure {
  const message =
    error.code === 'not_logged_in'
      ? `Not logged in. Run \`${command}\` first.`
      : `${error.message}. Run \`${command}\` to log in again.`;
  return new CliFailure(message, EXIT.loginRequired);
}

/** What the client kit throws, as a sentence a person can act on and an exit code. */
function clientKitFailure(error: unknown): CliFailure | undefined {
  if (error instanceof LoginRequiredError) return loginRequiredFailure(error, loginCommand({}));
  if (error instanceof SwapServiceUnreachableError) {
    return new CliFailure(
      `${error.message}. Is the swap service running, and is the URL right?`,
      EXIT.serviceUnavailable,
    );
  }
  if (error instanceof SwapServiceError) {
    const detail = error.errorDescription ? `${error.error}: ${error.errorDescription}` : error.error;
    if (error.status === 429 || error.status >= 500) {
      const wait = error.retryAfter !== undefined ? ` Try again in ${error.retryAfter} s.` : '';
      return new CliFailure(
        `The swap service could not get tokens (${detail}).${wait}`,
        EXIT.serviceUnavailable,
      );
    }
    return new CliFailure(`The swap service refused the request (${detail}).`, EXIT.failure);
  }
  if (error instanceof AuthorizationError) {
    const hint: Record<AuthorizationError['code'], string> = {
      access_denied: 'Login cancelled in the browser.',
      state_mismatch: `${error.message}. Nothing was stored; run login again.`,
      timeout: `${error.message}. Run login again and finish it in the browser.`,
      aborted: 'Login aborted.',
      authorization_error: `${error.message}.`,
      invalid_callback: `${error.message}.`,
    };
    return new CliFailure(hint[error.code], EXIT.authorizationFailed);
  }
  if (error instanceof TokenStoreError) {
    return new CliFailure(error.message, EXIT.failure);
  }
  return undefined;
}

const LISTEN_ERRORS = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL']);

/** A socket that could not be bound: Node's listen error (`code`, `address`, `port`). */
export function listenError(error: unknown): { code: string; address: string; port: string } | undefined {
  const { code, address, port } = (error ?? {}) as { code?: unknown; address?: unknown; port?: unknown };
  if (typeof code !== 'string' || !LISTEN_ERRORS.has(code)) return undefined;
  return { code, address: String(address ?? ''), port: String(port ?? '') };
}

/** The failure a person can fix, or undefined for a bug. */
export function knownFailure(error: unknown): CliFailure | undefined {
  if (error instanceof CliFailure) return error;
  if (error instanceof ConfigError || error instanceof EnvFileError || error instanceof ShutdownError) {
    return new CliFailure(error.message, EXIT.failure);
  }
  // citty's own usage errors (CLIError, not exported), e.g. a missing required argument.
  if (error instanceof Error && error.name === 'CLIError') return usageFailure(error.message);
  const listen = listenError(error);
  if (listen) {
    return new CliFailure(
      `cannot listen on ${listen.address}:${listen.port} (${listen.code}); choose another with PORT or --port`,
      EXIT.failure,
    );
  }
  return clientKitFailure(error);
}
