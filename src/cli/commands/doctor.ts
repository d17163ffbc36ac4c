import { defineCommand } from 'citty';
import {
  type AppConfig,
  ConfigError,
  DEFAULT_ACCOUNTS_URL,
  DEFAULT_APP,
  type Env,
  loadConfig,
  splitList,
} from '../../server/config.js';
import { type Finding, fail, formatFinding } from '../doctor/findings.js';
import { probeAccounts } from '../doctor/network-checks.js';
import { checkCredentialShape, checkRedirectUris, checkSealingSecrets } from '../doctor/static-checks.js';
import { configFlags, readConfigFile, resolveEnv } from '../env.js';
import { EXIT } from '../fail.js';
import { ioOf } from '../io.js';

/**
 * The default app as far as the environment describes it, so that a configuration that does not
 * load can still be checked piece by piece.
 */
function bestEffortApp(env: Env): AppConfig {
  return {
    name: DEFAULT_APP,
    clientId: env.SPOTIFY_CLIENT_ID?.trim() ?? '',
    clientSecret: env.SPOTIFY_CLIENT_SECRET?.trim() ?? '',
    redirectUris: splitList(env.SPOTIFY_REDIRECT_URI ?? env.SPOTIFY_CLIENT_CALLBACK_URL),
    accountsUrl: (env.SPOTIFY_ACCOUNTS_URL || DEFAULT_ACCOUNTS_URL).replace(/\/+$/, ''),
    encryptionSecrets: splitList(env.ENCRYPTION_SECRET),
    legacyEncryptionSecrets: [],
    corsOrigins: [],
    upstreamTimeoutMs: 10_000,
  };
}

/** The fix for each configuration problem, by the variable it names. */
function configFinding(problem: string): Finding {
  const [variable = 'Configuration', ...rest] = problem.split(': ');
  return fail(variable, rest.join(': ') || problem, 'See the configuration table in the README');
}

export default defineCommand({
  meta: {
    name: 'doctor',
    description: 'Check a configuration as a support engineer would, and say how to fix what is wrong',
  },
  args: {
    'env-file': configFlags['env-file'],
    config: configFlags.config,
    offline: { type: 'boolean', description: 'Skip the checks that call Spotify Accounts' },
  },
  async run(context) {
    const { args } = context;
    const { stdout, env: processEnv } = ioOf(context);
    const env = resolveEnv(args, processEnv);
    const findings: Finding[] = [];
    let apps: readonly AppConfig[] = [];
    try {
      apps = loadConfig(env, { file: readConfigFile(args.config, env) }).apps;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // Redirect URIs get their own findings below, with the fix; the rest is reported as is.
      findings.push(
        ...error.problems.filter((p) => !p.startsWith('SPOTIFY_REDIRECT_URI:')).map(configFinding),
      );
      apps = [bestEffortApp(env)];
    }
    const print = (heading: string, list: Finding[]) => {
      stdout.write(
        `\n${heading}\n${list.map((f) => `  ${formatFinding(f).replace(/\n/g, '\n  ')}`).join('\n')}\n`,
      );
    };
    if (findings.length > 0) print('Configuration', findings);

    for (const app of apps) {
      const appFindings = [
        ...checkRedirectUris(app.redirectUris),
        ...checkCredentialShape(app),
        ...checkSealingSecrets(app.encryptionSecrets),
        ...(args.offline || !app.clientId || !app.clientSecret ? [] : await probeAccounts(app)),
      ];
      findings.push(...appFindings);
      print(app.name === DEFAULT_APP ? 'App (from the environment)' : `App "${app.name}"`, appFindings);
    }
    const failures = findings.filter((f) => f.severity === 'fail').length;
    const warnings = findings.filter((f) => f.severity === 'warn').length;
    stdout.write(
      `\n${failures === 0 ? 'No problem found' : `${failures} problem${failures > 1 ? 's' : ''} to fix`}${warnings > 0 ? `, ${warnings} warning${warnings > 1 ? 's' : ''}` : ''}.\n`,
    );
    // Problems found are the doctor's verdict, already printed: an exit code, not a failure.
    return failures === 0 ? EXIT.ok : EXIT.failure;
  },
});
