import { defineCommand } from 'citty';
import {
  type AppConfig,
  ConfigError,
  type ConfigProblem,
  checkAccountsUrl,
  DEFAULT_ACCOUNTS_URL,
  DEFAULT_APP,
  DEFAULT_REFRESH_TOKEN_POLICY,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  ENVIRONMENT,
  type Env,
  loadConfig,
  NO_SEALING,
  parseSealingSecrets,
  type SealingSecrets,
  splitList,
} from '../../server/config/index.js';
import { type Finding, fail, formatFinding, warn } from '../doctor/findings.js';
import { probeAccounts } from '../doctor/network-checks.js';
import { checkCredentialShape, checkRedirectUris, checkSealingSecrets } from '../doctor/static-checks.js';
import { configFlags, readConfigFile, resolveEnv } from '../env.js';
import { EXIT } from '../fail.js';
import { ioOf } from '../io.js';

/** Variables whose problems the per-app checks below report themselves, each with its fix. */
const CHECKED_PER_APP = new Set(['SPOTIFY_REDIRECT_URI', 'ENCRYPTION_SECRET']);

/**
 * The default app as far as the environment describes it, so that a configuration that does not
 * load can still be checked piece by piece. Its Accounts URL is kept only when it passed the
 * service's own rule: credentials are never sent where the service itself would refuse to send them.
 */
function bestEffortApp(env: Env): { app: AppConfig; sealing: SealingSecrets; probe: boolean } {
  const sealing = parseSealingSecrets(env.ENCRYPTION_SECRET);
  const accounts = checkAccountsUrl(env.SPOTIFY_ACCOUNTS_URL || DEFAULT_ACCOUNTS_URL);
  const app: AppConfig = {
    name: DEFAULT_APP,
    clientId: env.SPOTIFY_CLIENT_ID?.trim() ?? '',
    clientSecret: env.SPOTIFY_CLIENT_SECRET?.trim() ?? '',
    redirectUris: splitList(env.SPOTIFY_REDIRECT_URI ?? env.SPOTIFY_CLIENT_CALLBACK_URL),
    accountsUrl: accounts.href ?? DEFAULT_ACCOUNTS_URL,
    encryptionSecrets: sealing === NO_SEALING ? [] : sealing,
    legacyEncryptionSecrets: [],
    corsOrigins: [],
    upstreamTimeoutMs: DEFAULT_UPSTREAM_TIMEOUT_MS,
    refreshTokens: DEFAULT_REFRESH_TOKEN_POLICY,
  };
  return { app, sealing, probe: accounts.problems.length === 0 };
}

function configFinding(problem: ConfigProblem): Finding {
  const where =
    problem.source === ENVIRONMENT ? problem.variable : `${problem.source} ${problem.variable}`.trim();
  return fail(where || 'Configuration', problem.message, 'See the configuration table in the README');
}

async function networkFindings(
  app: AppConfig,
  options: { offline: boolean; probe: boolean },
): Promise<Finding[]> {
  if (options.offline || !app.clientId || !app.clientSecret) return [];
  if (!options.probe) {
    return [
      warn(
        'Spotify Accounts',
        'not called: SPOTIFY_ACCOUNTS_URL did not pass validation, and credentials are never sent to such a URL',
        'Fix SPOTIFY_ACCOUNTS_URL (see Configuration above), then run the doctor again',
      ),
    ];
  }
  return probeAccounts(app);
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
    let apps: readonly { app: AppConfig; sealing: SealingSecrets }[] = [];
    let probe = true;
    try {
      // A loaded app without secrets is one whose operator opted out: loading refuses any other.
      apps = loadConfig(env, { file: readConfigFile(args.config, env) }).apps.map((app) => ({
        app,
        sealing: app.encryptionSecrets.length === 0 ? NO_SEALING : app.encryptionSecrets,
      }));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      findings.push(
        ...error.problems
          .filter((p) => !(p.source === ENVIRONMENT && CHECKED_PER_APP.has(p.variable)))
          .map(configFinding),
      );
      const fallback = bestEffortApp(env);
      apps = [fallback];
      probe = fallback.probe;
    }
    const print = (heading: string, list: Finding[]) => {
      stdout.write(
        `\n${heading}\n${list.map((f) => `  ${formatFinding(f).replace(/\n/g, '\n  ')}`).join('\n')}\n`,
      );
    };
    if (findings.length > 0) print('Configuration', findings);

    for (const { app, sealing } of apps) {
      const appFindings = [
        ...checkRedirectUris(app.redirectUris),
        ...checkCredentialShape(app),
        ...checkSealingSecrets(sealing),
        ...(await networkFindings(app, { offline: args.offline === true, probe })),
      ];
      findings.push(...appFindings);
      print(app.name === DEFAULT_APP ? 'App (from the environment)' : `App "${app.name}"`, appFindings);
    }
    const failures = findings.filter((f) => f.severity === 'fail').length;
    const warnings = findings.filter((f) => f.severity === 'warn').length;
    stdout.write(
      `\n${failures === 0 ? 'No problem found' : `${failures} problem${failures > 1 ? 's' : ''} to fix`}${warnings > 0 ? `, ${warnings} warning${warnings > 1 ? 's' : ''}` : ''}.\n`,
    );
    stdout.write('Common failures, with their causes and fixes: docs/troubleshooting.md\n');
    // Problems found are the doctor's verdict, already printed: an exit code, not a failure.
    return failures === 0 ? EXIT.ok : EXIT.failure;
  },
});
