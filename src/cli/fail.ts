/** How the CLI reports a failure a person can fix: one clear message, no stack, exit code 1. */
import { ConfigError } from '../server/config/index.js';
import { EnvFileError } from './env.js';

export class CliFailure extends Error {
  override readonly name = 'CliFailure';
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Prints an expected failure and exits; anything unexpected is rethrown for citty to print. */
export function exitOnKnownFailure(error: unknown): never {
  if (error instanceof ConfigError || error instanceof EnvFileError || error instanceof CliFailure) {
    process.stderr.write(`token-swap: ${error.message}\n`);
    process.exit(error instanceof CliFailure ? error.exitCode : 1);
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    const { address, port } = error as { address?: string; port?: number };
    process.stderr.write(
      `token-swap: cannot listen on ${address ?? ''}:${port ?? ''} (${String(code)}); choose another with PORT or --port\n`,
    );
    process.exit(1);
  }
  throw error;
}
