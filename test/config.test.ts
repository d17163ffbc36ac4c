import { describe, expect, it, vi } from 'vitest';
import { buildApp, misconfigured } from '../src/runtimes/portable.js';
import { ConfigError, formatProblem, loadConfig, unsealedWarnings } from '../src/server/config/index.js';

const base = {
  SPOTIFY_CLIENT_ID: 'client-id',
  SPOTIFY_CLIENT_SECRET: 'client-secret-value-1234567890',
  SPOTIFY_REDIRECT_URI: 'http://127.0.0.1:8888/callback',
  ENCRYPTION_SECRET: 'sealing-secret-0123456789-abcdefghijklmnop',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map(formatProblem);
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies documented defaults', () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({ host: '127.0.0.1', port: 3000, logLevel: 'info' });
    expect(config.apps[0]).toMatchObject({
      name: 'default',
      accountsUrl: 'https://accounts.spotify.com',
      redirectUris: ['http://127.0.0.1:8888/callback'],
      encryptionSecrets: [base.ENCRYPTION_SECRET],
      corsOrigins: [],
      upstreamTimeoutMs: 10_000,
    });
  });

  it('names every missing required variable at once', () => {
    const found = problems({});
    expect(found.map((p) => p.split(':')[0])).toEqual([
      'SPOTIFY_CLIENT_ID',
      'SPOTIFY_CLIENT_SECRET',
      'SPOTIFY_REDIRECT_URI',
      'ENCRYPTION_SECRET',
    ]);
  });

  it('refuses to start without a sealing secret, saying how to get one and how to opt out', () => {
    const { ENCRYPTION_SECRET: _, ...unsealed } = base;
    for (const value of [undefined, '', '  ']) {
      const found = problems(value === undefined ? unsealed : { ...unsealed, ENCRYPTION_SECRET: value });
      expect(found).toEqual([
        'ENCRYPTION_SECRET: is required: refresh tokens are sealed by default. Generate a secret with `token-swap secret` (or `openssl rand -base64 48`) and set it here; or, to hand refresh tokens to clients unsealed, opt out with ENCRYPTION_SECRET=none',
      ]);
    }
  });

  it('hands refresh tokens out unsealed only when the operator opts out with ENCRYPTION_SECRET=none', () => {
    const config = loadConfig({ ...base, ENCRYPTION_SECRET: ' none ' });
    expect(config.apps[0]?.encryptionSecrets).toEqual([]);
    expect(unsealedWarnings(config)).toEqual([
      'ENCRYPTION_SECRET=none: refresh tokens are handed to clients unsealed',
    ]);
    expect(unsealedWarnings(loadConfig(base))).toEqual([]);
    // `none` is not a secret among others: a list with it is a mistake, not an opt-out.
    expect(problems({ ...base, ENCRYPTION_SECRET: `none,${base.ENCRYPTION_SECRET}` })).toEqual([
      'ENCRYPTION_SECRET: "none" turns sealing off and stands alone; it cannot be listed with secrets',
    ]);
  });

  it('reads a comma-separated redirect allowlist, first entry the default, with the old alias', () => {
    const config = loadConfig({
      ...base,
      SPOTIFY_REDIRECT_URI: undefined as unknown as string,
      SPOTIFY_CLIENT_CALLBACK_URL: ' myapp://cb , http://[::1]/callback ',
    });
    expect(config.apps[0]?.redirectUris).toEqual(['myapp://cb', 'http://[::1]/callback']);
  });

  it('refuses localhost and plain-http redirect URIs as Spotify does', () => {
    expect(problems({ ...base, SPOTIFY_REDIRECT_URI: 'http://localhost:8888/callback' })[0]).toMatch(
      /^SPOTIFY_REDIRECT_URI: .*localhost.*127\.0\.0\.1/,
    );
    expect(problems({ ...base, SPOTIFY_REDIRECT_URI: 'http://example.com/cb' })[0]).toMatch(/https/);
  });

  it('refuses a sealing secret under 32 characters without printing it', () => {
    const secret = 'too-short-secret-value';
    const found = problems({ ...base, ENCRYPTION_SECRET: `${'x'.repeat(40)},${secret}` });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^ENCRYPTION_SECRET: secret #2 is shorter than 32 characters/);
    expect(found.join('\n')).not.toContain(secret);
  });

  it('reads several sealing secrets, the first one sealing', () => {
    const config = loadConfig({ ...base, ENCRYPTION_SECRET: `${'a'.repeat(32)}, ${'b'.repeat(32)}` });
    expect(config.apps[0]?.encryptionSecrets).toEqual(['a'.repeat(32), 'b'.repeat(32)]);
  });

  it('validates CORS origins, ports, timeouts, log levels and the Accounts URL', () => {
    const found = problems({
      ...base,
      CORS_ORIGINS: 'https://app.example.com/,*',
      PORT: '70000',
      UPSTREAM_TIMEOUT_MS: 'fast',
      LOG_LEVEL: 'loud',
      SPOTIFY_ACCOUNTS_URL: 'http://accounts.example.com',
    });
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual([
      'CORS_ORIGINS',
      'CORS_ORIGINS',
      'LOG_LEVEL',
      'PORT',
      'SPOTIFY_ACCOUNTS_URL',
      'UPSTREAM_TIMEOUT_MS',
    ]);
  });

  it('allows plain http for a loopback Accounts URL (the sandbox) and strips a trailing slash', () => {
    const config = loadConfig({ ...base, SPOTIFY_ACCOUNTS_URL: 'http://127.0.0.1:3001/sandbox/' });
    expect(config.apps[0]?.accountsUrl).toBe('http://127.0.0.1:3001/sandbox');
  });

  it('derives the shutdown grace from the timeouts, so that no request is cut off (README numbers)', () => {
    expect(loadConfig(base).shutdownGraceMs).toBe(24_250);
    expect(loadConfig({ ...base, REDIS_URL: 'redis://127.0.0.1:6379' }).shutdownGraceMs).toBe(47_250);
    // Two attempts of the slowest app, after a queue wait, and the retry pause: more than 10 s.
    expect(
      loadConfig({ ...base, UPSTREAM_TIMEOUT_MS: '4000', UPSTREAM_QUEUE_TIMEOUT_MS: '0' }).shutdownGraceMs,
    ).toBe(10_250);
    expect(loadConfig({ ...base, SHUTDOWN_GRACE_MS: '5000' }).shutdownGraceMs).toBe(5_000);
    expect(problems({ ...base, SHUTDOWN_GRACE_MS: 'soon' })).toEqual([
      'SHUTDOWN_GRACE_MS: must be a whole number',
    ]);
  });

  it('never echoes the client secret in any message', () => {
    const secret = 'super-secret-client-secret-value';
    const found = problems({ ...base, SPOTIFY_CLIENT_SECRET: secret, PORT: '-1', LOG_LEVEL: secret });
    expect(found.join('\n')).not.toContain(secret);
  });
});

describe('the sealing rule in the Web-API runtimes (Workers, Deno, Bun, Lambda)', () => {
  it('refuses the same way: every request answers 500 naming ENCRYPTION_SECRET, never a value', async () => {
    const { ENCRYPTION_SECRET: _, ...unsealed } = base;
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const built = buildApp(unsealed);
      if (!('error' in built)) throw new Error('expected a configuration error');
      expect(logged.mock.calls.join('\n')).toContain('token-swap secret');
      const answer = misconfigured(built.error);
      expect(answer.status).toBe(500);
      expect(await answer.json()).toEqual({
        error: 'server_error',
        error_description: 'The token swap service is misconfigured: ENCRYPTION_SECRET',
      });
      expect('app' in buildApp({ ...unsealed, ENCRYPTION_SECRET: 'none' })).toBe(true);
    } finally {
      logged.mockRestore();
    }
  });
});

describe('refresh-token policy (REFRESH_TOKEN_*, refreshToken* in the apps file)', () => {
  const policyOf = (env: Record<string, string>, file?: unknown) =>
    loadConfig(
      { ...base, ...env },
      file === undefined ? {} : { file: { source: 'token-swap.config.json', content: file } },
    ).apps.map((app) => [app.name, app.refreshTokens]);

  it('defaults to Spotify six months, no idle limit, no rotation, a 30 s grace', () => {
    expect(policyOf({})).toEqual([
      [
        'default',
        { maxAgeSeconds: undefined, idleTimeoutSeconds: undefined, rotation: false, reuseGraceSeconds: 30 },
      ],
    ]);
  });

  it('reads seconds and durations, and 1/0 for rotation', () => {
    expect(
      policyOf({
        REFRESH_TOKEN_MAX_AGE: '90d',
        REFRESH_TOKEN_IDLE_TIMEOUT: '7200',
        REFRESH_TOKEN_ROTATION: '1',
        REFRESH_TOKEN_REUSE_GRACE: '2m',
      }),
    ).toEqual([
      [
        'default',
        { maxAgeSeconds: 90 * 86_400, idleTimeoutSeconds: 7_200, rotation: true, reuseGraceSeconds: 120 },
      ],
    ]);
  });

  it('names each bad value with its bound, as a person reads it', () => {
    expect(
      problems({
        ...base,
        REFRESH_TOKEN_MAX_AGE: '200d',
        REFRESH_TOKEN_IDLE_TIMEOUT: 'soon',
        REFRESH_TOKEN_ROTATION: 'maybe',
        REFRESH_TOKEN_REUSE_GRACE: '301',
      }),
    ).toEqual([
      'REFRESH_TOKEN_MAX_AGE: must be at most 184 days',
      'REFRESH_TOKEN_IDLE_TIMEOUT: must be a number of seconds or a duration such as 180d, 12h, 30m or 45s',
      'REFRESH_TOKEN_ROTATION: must be 1 or 0 (or true/false)',
      'REFRESH_TOKEN_REUSE_GRACE: must be at most 5 minutes',
    ]);
    expect(problems({ ...base, REFRESH_TOKEN_MAX_AGE: '30m' })).toEqual([
      'REFRESH_TOKEN_MAX_AGE: must be at least 1 hour',
    ]);
  });

  it('refuses an idle limit not shorter than the maximum age, and limits an unsealed app cannot keep', () => {
    expect(problems({ ...base, REFRESH_TOKEN_MAX_AGE: '7d', REFRESH_TOKEN_IDLE_TIMEOUT: '7d' })).toEqual([
      'REFRESH_TOKEN_IDLE_TIMEOUT: must be shorter than the maximum age of a login',
    ]);
    expect(
      problems({
        ...base,
        ENCRYPTION_SECRET: 'none',
        REFRESH_TOKEN_ROTATION: '1',
        REFRESH_TOKEN_MAX_AGE: '7d',
      }),
    ).toEqual([
      'REFRESH_TOKEN_MAX_AGE: needs sealed refresh tokens (a sealing secret instead of `none`)',
      'REFRESH_TOKEN_ROTATION: needs sealed refresh tokens (a sealing secret instead of `none`)',
    ]);
  });

  it('gives each app of the apps file its own fields, inheriting the environment where it names none', () => {
    const file = {
      apps: {
        rotating: {
          clientId: 'client-id-2',
          clientSecret: 'client-secret-value-2-1234567890',
          redirectUris: ['myapp://callback'],
          encryptionSecrets: ['sealing-secret-of-app-two-0123456789-abcdef'],
          refreshTokenRotation: true,
          refreshTokenReuseGrace: 10,
          refreshTokenMaxAge: '30d',
        },
        inheriting: {
          clientId: 'client-id-3',
          clientSecret: 'client-secret-value-3-1234567890',
          redirectUris: ['myapp://callback'],
          encryptionSecrets: ['sealing-secret-of-app-three-0123456789-abcd'],
        },
      },
    };
    const byName = Object.fromEntries(policyOf({ REFRESH_TOKEN_IDLE_TIMEOUT: '14d' }, file));
    expect(byName.rotating).toEqual({
      maxAgeSeconds: 30 * 86_400,
      idleTimeoutSeconds: 14 * 86_400,
      rotation: true,
      reuseGraceSeconds: 10,
    });
    expect(byName.inheriting).toEqual({
      maxAgeSeconds: undefined,
      idleTimeoutSeconds: 14 * 86_400,
      rotation: false,
      reuseGraceSeconds: 30,
    });
  });
});
