/**
 * A configuration problem says where (the variable, or the field of the apps file) and what is wrong,
 * for a person; it never echoes a secret's value. Callers read the fields, never the text.
 */

/** The environment, as opposed to a file. */
export const ENVIRONMENT = 'environment';

export interface ConfigProblem {
  /** `environment`, or the apps file the problem is in (e.g. `token-swap.config.json`). */
  source: string;
  /** The variable (`SPOTIFY_CLIENT_ID`) or the field in the file (`apps.web.redirectUris`); empty for the file as a whole. */
  variable: string;
  message: string;
}

export function formatProblem({ source, variable, message }: ConfigProblem): string {
  if (source === ENVIRONMENT) return `${variable}: ${message}`;
  return variable === '' ? `${source}: ${message}` : `${source}: ${variable}: ${message}`;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`);
    this.problems = problems;
  }
}

/** A problem with an environment variable. */
export const envProblem = (variable: string, message: string): ConfigProblem => ({
  source: ENVIRONMENT,
  variable,
  message,
});
