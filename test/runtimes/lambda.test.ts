/**
 * The AWS Lambda package as it is deployed: build/lambda.zip, built by `npm run build:lambda`
 * (docs/deploy/aws-lambda.md, template.yaml's CodeUri), unzipped into an empty folder, and its
 * `index.handler` called in this process, as Lambda calls it, with events in the shapes that API Gateway REST APIs (payload 1.0), HTTP APIs (payload
 * 2.0) and Lambda function URLs send (test/runtimes/events/, modelled on AWS's sample events: form
 * bodies as API Gateway passes them, base64-encoded where HTTP APIs and function URLs encode them).
 * A Lambda has no socket to test, so the conformance suite cannot run here; these replays cover
 * swap, refresh, errors and CORS for each event format, against the sandbox over a real socket.
 *
 * An event file holds `{{code}}` or `{{refresh_token}}` in its (decoded) body where a fresh grant
 * goes; `replay` fills it in and encodes the body back as the event had it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { LambdaEvent } from 'hono/aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../src/server/config/index.js';
import { SEALED_PREFIX } from '../../src/server/sealing/index.js';
import {
  ALLOWED_ORIGIN,
  type ConformanceSandbox,
  conformanceEnv,
  startConformanceSandbox,
} from '../conformance/suite.js';
import { rubySeal } from '../helpers/legacy.js';
import { startRedis } from '../helpers/redis.js';
import { tokenCalls } from '../helpers/sandbox-control.js';
import { authorize, CLIENT_ID, CLIENT_SECRET, postForm, REDIRECT_URI } from '../helpers/stack.js';
import { withSecondToLastFlipped } from '../helpers/tampered.js';
import { expectNoSecrets } from './secrets.js';

interface LambdaResult {
  statusCode: number;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  body: string;
  isBase64Encoded: boolean;
}
type Handler = (event: LambdaEvent, context?: unknown) => Promise<LambdaResult>;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Where the package is unzipped: no node_modules above it, as in Lambda's /var/task. */
const TASK = mkdtempSync(join(tmpdir(), 'lambda-task-'));
const ENTRY = pathToFileURL(join(TASK, 'index.mjs')).href;
/** Every variable the service reads, so none leaks in from the environment vitest runs in. */
const CONFIG_KEYS = Object.keys(ENV);

let sandbox: ConformanceSandbox | undefined;
let handler: Handler;
const savedEnv = { ...process.env };
let logged = '';

/** A fresh execution environment's init phase: the entry's import, with exactly these variables. */
async function init(env: Record<string, string>): Promise<Handler> {
  for (const key of CONFIG_KEYS) delete process.env[key];
  Object.assign(process.env, env);
  vi.resetModules();
  return ((await import(/* @vite-ignore */ ENTRY)) as { handler: Handler }).handler;
}

/**
 * The handler of a fresh execution environment (the entry builds its app once per environment,
 * from `process.env` at its import, the init phase), with exactly these variables, after its first event.
 */
async function coldStart(env: Record<string, string>): Promise<Handler> {
  const fresh = await init(env);
  await fresh(event('function-url.wrong-method'));
  return fresh;
}

function event(name: string, fill: Record<string, string> = {}): LambdaEvent {
  const recorded = JSON.parse(readFileSync(new URL(`events/${name}.json`, import.meta.url), 'utf8')) as {
    body?: string | null;
    isBase64Encoded?: boolean;
    headers?: Record<string, string>;
  };
  if (typeof recorded.body === 'string') {
    const encoded = recorded.isBase64Encoded === true;
    let body = encoded ? Buffer.from(recorded.body, 'base64').toString('utf8') : recorded.body;
    body = body.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
      const value = fill[key];
      if (value === undefined) throw new Error(`${name}: nothing to fill {{${key}}} with`);
      return value;
    });
    recorded.body = encoded ? Buffer.from(body).toString('base64') : body;
    if (recorded.headers?.['content-length'] !== undefined) {
      recorded.headers['content-length'] = String(Buffer.byteLength(body));
    }
  }
  return recorded as unknown as LambdaEvent;
}

/** The response headers, lower-cased, whichever of the two shapes the handler answered with. */
function headersOf(result: LambdaResult): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = value;
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    headers[name.toLowerCase()] = values.join(', ');
  }
  return headers;
}

function json(result: LambdaResult): Record<string, unknown> {
  expect(result.isBase64Encoded).toBe(false);
  expect(headersOf(result)['content-type']).toBe('application/json');
  expect(headersOf(result)['cache-control']).toBe('no-store');
  return JSON.parse(result.body) as Record<string, unknown>;
}

async function freshCode(): Promise<string> {
  return (await authorize(sandbox?.accountsUrl ?? '')).code;
}

async function sealedRefreshToken(): Promise<string> {
  const result = await handler(event('rest-v1.swap', { code: await freshCode() }));
  const { refresh_token } = json(result) as { refresh_token: string };
  expect(refresh_token.startsWith(SEALED_PREFIX)).toBe(true);
  return refresh_token;
}

async function withoutUpstreamCall(send: () => Promise<LambdaResult>): Promise<LambdaResult> {
  const before = await tokenCalls(sandbox?.accountsUrl ?? '');
  const result = await send();
  expect(await tokenCalls(sandbox?.accountsUrl ?? '')).toBe(before);
  return result;
}

const TOKEN_KEYS = [
  'access_token',
  'token_type',
  'expires_in',
  'scope',
  'refresh_token',
  'refresh_token_expires_in',
];
const REFRESH_KEYS = [...TOKEN_KEYS.slice(0, 4), 'refresh_token_expires_in'];

beforeAll(async () => {
  execFileSync('npm', ['run', '--silent', 'build:lambda'], { cwd: ROOT, stdio: 'inherit' });
  execFileSync('unzip', ['-q', join(ROOT, 'build/lambda.zip'), '-d', TASK]);
  const capture = (...parts: unknown[]) => {
    logged += `${parts.map(String).join(' ')}\n`;
  };
  vi.spyOn(console, 'log').mockImplementation(capture);
  vi.spyOn(console, 'error').mockImplementation(capture);
  sandbox = await startConformanceSandbox();
  handler = await coldStart(conformanceEnv(sandbox.accountsUrl));
});
afterAll(async () => {
  vi.restoreAllMocks();
  for (const key of Object.keys(process.env)) {
    if (!(key in savedEnv)) delete process.env[key];
  }
  Object.assign(process.env, savedEnv);
  await sandbox?.close();
  rmSync(TASK, { recursive: true, force: true });
});

describe('API Gateway REST API (payload 1.0)', () => {
  it('swap: a form body gives the token contract, in multiValueHeaders as the event had them', async () => {
    const result = await handler(event('rest-v1.swap', { code: await freshCode() }));
    expect(result.statusCode).toBe(200);
    expect(result.multiValueHeaders?.['content-type']).toEqual(['application/json']);
    const body = json(result);
    expect(Object.keys(body)).toEqual(TOKEN_KEYS);
    expect(body.expires_in).toBe(3600);
  });

  it('refresh: the sealed refresh token, form-encoded', async () => {
    const refreshToken = await sealedRefreshToken();
    const result = await handler(
      event('rest-v1.refresh', { refresh_token: encodeURIComponent(refreshToken) }),
    );
    expect(result.statusCode).toBe(200);
    expect(Object.keys(json(result))).toEqual(REFRESH_KEYS);
  });

  it('a swap without a code: 400 invalid_request, Spotify not called', async () => {
    const result = await withoutUpstreamCall(() => handler(event('rest-v1.missing-code')));
    expect(result.statusCode).toBe(400);
    expect(json(result).error).toBe('invalid_request');
  });

  it('a CORS preflight from an allowed origin: 204 with Access-Control-Allow-Origin', async () => {
    const result = await handler(event('rest-v1.preflight'));
    expect(result.statusCode).toBe(204);
    expect(headersOf(result)['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(headersOf(result)['access-control-allow-methods']).toContain('POST');
  });
});

describe('API Gateway HTTP API (payload 2.0)', () => {
  it('swap on /api/token: a base64-encoded form body', async () => {
    const result = await handler(event('http-v2.swap', { code: await freshCode() }));
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['content-type']).toBe('application/json');
    expect(Object.keys(json(result))).toEqual(TOKEN_KEYS);
  });

  it('refresh on /api/refresh_token: a JSON body', async () => {
    const result = await handler(event('http-v2.refresh', { refresh_token: await sealedRefreshToken() }));
    expect(result.statusCode).toBe(200);
    expect(Object.keys(json(result))).toEqual(REFRESH_KEYS);
  });

  it('a tampered sealed token: 400 invalid_grant, Spotify not called', async () => {
    const sealed = await sealedRefreshToken();
    const tampered = withSecondToLastFlipped(sealed);
    const result = await withoutUpstreamCall(() =>
      handler(event('http-v2.tampered-refresh', { refresh_token: tampered })),
    );
    expect(result.statusCode).toBe(400);
    expect(json(result)).toEqual({ error: 'invalid_grant', error_description: 'Invalid refresh token' });
  });

  it('a CORS preflight from another origin: JSON 403 without Access-Control-Allow-Origin', async () => {
    const result = await handler(event('http-v2.preflight-other-origin'));
    expect(result.statusCode).toBe(403);
    expect(headersOf(result)['access-control-allow-origin']).toBeUndefined();
    expect(json(result).error).toBe('invalid_request');
  });
});

describe('Lambda function URL', () => {
  it('swap from a browser: a base64-encoded form body, Access-Control-Allow-Origin on the answer', async () => {
    const result = await handler(event('function-url.swap', { code: await freshCode() }));
    expect(result.statusCode).toBe(200);
    expect(headersOf(result)['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(Object.keys(json(result))).toEqual(TOKEN_KEYS);
  });

  it('refresh: a base64-encoded form body', async () => {
    const refreshToken = await sealedRefreshToken();
    const result = await handler(event('function-url.refresh', { refresh_token: refreshToken }));
    expect(result.statusCode).toBe(200);
    expect(Object.keys(json(result))).toEqual(REFRESH_KEYS);
  });

  it('GET /swap: JSON 405 with an Allow header', async () => {
    const result = await handler(event('function-url.wrong-method'));
    expect(result.statusCode).toBe(405);
    expect(headersOf(result).allow).toBe('POST, OPTIONS');
    expect(json(result).error).toBe('method_not_allowed');
  });

  it('a CORS preflight from an allowed origin: 204 with Access-Control-Allow-Origin', async () => {
    const result = await handler(event('function-url.preflight'));
    expect(result.statusCode).toBe(204);
    expect(headersOf(result)['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
  });
});

describe('the execution environment', () => {
  it("counts rate limits per the event's sourceIp, not per a client-written X-Forwarded-For", async () => {
    const limited = await coldStart({
      ...conformanceEnv(sandbox?.accountsUrl ?? ''),
      RATE_LIMIT_SWAP_PER_MINUTE: '1',
    });
    const fromIp = (base: LambdaEvent, sourceIp: string): LambdaEvent => {
      const copy = structuredClone(base) as LambdaEvent & {
        requestContext: { identity?: { sourceIp: string }; http?: { sourceIp: string } };
      };
      if (copy.requestContext.identity) copy.requestContext.identity.sourceIp = sourceIp;
      if (copy.requestContext.http) copy.requestContext.http.sourceIp = sourceIp;
      return copy;
    };
    // Same X-Forwarded-For in each event: only the sourceIp differs.
    const v1 = event('rest-v1.missing-code');
    expect((await limited(fromIp(v1, '203.0.113.50'))).statusCode).toBe(400);
    expect((await limited(fromIp(v1, '203.0.113.50'))).statusCode).toBe(429);
    expect((await limited(fromIp(v1, '203.0.113.51'))).statusCode).toBe(400);
    const v2 = event('http-v2.swap', { code: '' });
    expect((await limited(fromIp(v2, '198.51.100.50'))).statusCode).toBe(400);
    expect((await limited(fromIp(v2, '198.51.100.50'))).statusCode).toBe(429);
    expect((await limited(fromIp(v2, '198.51.100.51'))).statusCode).toBe(400);
  });

  it('answers every event with a JSON 500 naming the missing variable, never a secret, while misconfigured, its init not crashing', async () => {
    const { SPOTIFY_CLIENT_SECRET: _, ...incomplete } = conformanceEnv(sandbox?.accountsUrl ?? '');
    // The import is the init phase: a throw there would be Lambda retrying the init and logging a stack.
    const misconfigured = await init(incomplete);
    for (const name of ['rest-v1.swap', 'function-url.refresh', 'function-url.wrong-method']) {
      const result = await misconfigured(event(name, { code: 'anything', refresh_token: 'anything' }));
      expect(result.statusCode).toBe(500);
      const body = json(result);
      expect(body.error).toBe('server_error');
      expect(body.error_description).toContain('SPOTIFY_CLIENT_SECRET');
      expectNoSecrets(result.body);
    }
  });

  it('builds its app in the init phase: the configuration is the one at import, not at the first event', async () => {
    const { SPOTIFY_CLIENT_SECRET: secret, ...incomplete } = conformanceEnv(sandbox?.accountsUrl ?? '');
    const initialized = await init(incomplete);
    // Set after the init: an app built at the first event would read it and answer the swap.
    process.env.SPOTIFY_CLIENT_SECRET = secret;
    const result = await initialized(event('rest-v1.swap', { code: await freshCode() }));
    expect(result.statusCode).toBe(500);
    expect(json(result).error_description).toContain('SPOTIFY_CLIENT_SECRET');
  });

  it('opens refresh tokens the Ruby service sealed (LEGACY_ENCRYPTION_SECRET) and hands back sealed ones', async () => {
    const legacySecret = 'the old Ruby service ENCRYPTION_SECRET';
    const migrating = await coldStart({
      ...conformanceEnv(sandbox?.accountsUrl ?? ''),
      LEGACY_ENCRYPTION_SECRET: legacySecret,
    });
    // A refresh token as the Ruby service handed it out: straight from Spotify, sealed with 3DES.
    const grant = await postForm(
      `${sandbox?.accountsUrl}/api/token`,
      { grant_type: 'authorization_code', code: await freshCode(), redirect_uri: REDIRECT_URI },
      { Authorization: `Basic ${btoa(`${CLIENT_ID}:${CLIENT_SECRET}`)}` },
    );
    const { refresh_token } = (await grant.json()) as { refresh_token: string };
    const result = await migrating(
      event('rest-v1.refresh', { refresh_token: encodeURIComponent(rubySeal(refresh_token, legacySecret)) }),
    );
    expect(result.statusCode).toBe(200);
    const migrated = json(result) as { refresh_token?: string };
    expect(migrated.refresh_token?.startsWith(SEALED_PREFIX)).toBe(true);
    // The new token works on the next refresh, as any sealed one does.
    const next = await migrating(
      event('rest-v1.refresh', { refresh_token: encodeURIComponent(migrated.refresh_token ?? '') }),
    );
    expect(next.statusCode).toBe(200);
  });

  it('with REDIS_URL, shares rate budgets between environments from their first event on, and /readyz reports Redis', async () => {
    const redis = await startRedis();
    try {
      const env = {
        ...conformanceEnv(sandbox?.accountsUrl ?? ''),
        REDIS_URL: redis.url,
        RATE_LIMIT_SWAP_PER_MINUTE: '1',
      };
      const first = await coldStart(env);
      const second = await coldStart(env);
      const swap = event('rest-v1.missing-code');
      expect((await first(swap)).statusCode).toBe(400);
      expect((await second(swap)).statusCode).toBe(429);

      const readyz = structuredClone(event('function-url.wrong-method')) as LambdaEvent & {
        rawPath: string;
        requestContext: { http: { path: string } };
      };
      readyz.rawPath = '/readyz';
      readyz.requestContext.http.path = '/readyz';
      const ready = await second(readyz);
      expect(ready.statusCode).toBe(200);
      expect(JSON.parse(ready.body)).toMatchObject({ checks: { redis: { ok: true } } });
    } finally {
      await redis.kill();
    }
  });

  it('without REDIS_URL keeps no revocations: /revoke answers 501, and rotation is a configuration error', async () => {
    const storeless = await coldStart(conformanceEnv(sandbox?.accountsUrl ?? ''));
    const revoked = await storeless(event('rest-v1.revoke', { token: 'sts2.anything' }));
    expect(revoked.statusCode).toBe(501);
    expect(json(revoked).error).toBe('revocation_unavailable');

    const rotating = await coldStart({
      ...conformanceEnv(sandbox?.accountsUrl ?? ''),
      REFRESH_TOKEN_ROTATION: '1',
    });
    const refused = await rotating(event('rest-v1.swap', { code: 'anything' }));
    expect(refused.statusCode).toBe(500);
    expect(json(refused).error_description).toContain('REFRESH_TOKEN_ROTATION');
  });

  it('with REDIS_URL, a revocation in one environment holds in the next', async () => {
    const redis = await startRedis();
    try {
      const env = { ...conformanceEnv(sandbox?.accountsUrl ?? ''), REDIS_URL: redis.url };
      const first = await coldStart(env);
      const swapped = json(await first(event('rest-v1.swap', { code: await freshCode() })));
      const token = encodeURIComponent(String(swapped.refresh_token));
      expect((await first(event('rest-v1.revoke', { token }))).statusCode).toBe(200);
      const second = await coldStart(env);
      const calls = await tokenCalls(sandbox?.accountsUrl ?? '');
      const refused = await second(event('rest-v1.refresh', { refresh_token: token }));
      expect(refused.statusCode).toBe(400);
      expect(json(refused).error_description).toBe('The login was revoked: the user must sign in again');
      expect(await tokenCalls(sandbox?.accountsUrl ?? '')).toBe(calls);
    } finally {
      await redis.kill();
    }
  });

  /**
   * The package in a fresh process, where nothing else could have loaded anything: the import (which
   * builds the app) and one event, then `after`; what the process wrote to stdout.
   */
  const freshEnvironment = (extra: Record<string, string>, after = '') =>
    execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { handler } = await import('./index.mjs');
await handler(JSON.parse(process.env.EVENT));
${after}
process.exit(0);`,
      ],
      {
        cwd: TASK,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH ?? '',
          ...conformanceEnv(sandbox?.accountsUrl ?? ''),
          ...extra,
          EVENT: JSON.stringify(event('function-url.wrong-method')),
        },
      },
    );

  it.each([
    ['without REDIS_URL never reads', {}, false],
    ['with REDIS_URL reads', { REDIS_URL: 'redis://127.0.0.1:9' }, true],
  ] as const)(
    '%s its ioredis bundle (an import each cold start would pay otherwise)',
    (_, extra, expected) => {
      const output = freshEnvironment(
        extra,
        `const { createRequire } = await import('node:module');
const loaded = Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('/node_modules/ioredis/'));
process.stdout.write('\\n' + loaded);`,
      );
      expect(output.split('\n').at(-1)).toBe(String(expected));
    },
  );

  it('says, when OTEL_* variables ask for traces, that it does not trace (docs/observability.md), and only then', () => {
    const notice = 'OTEL_* variables ask for traces, but only the Node server traces';
    expect(freshEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' })).toContain(notice);
    expect(freshEnvironment({})).not.toContain('OTEL_');
  });

  it('logs no secret', () => {
    expectNoSecrets(logged);
    expect(logged).not.toMatch(/redis:\/\//);
  });
});
