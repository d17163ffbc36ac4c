/**
 * render.yaml, fly.toml and wrangler.toml (docs/deploy/render.md, fly.md, cloudflare-workers.md), read
 * as their platforms read them. Render and Fly build the Dockerfile and run the image: each file must
 * keep the image's CMD, its EXPOSEd port and its HEALTHCHECK path, and the service is started here the
 * way the image starts it, with the environment that platform gives it (its secrets as that platform
 * makes them), then probed on the path that platform probes. wrangler.toml must carry what the
 * "Deploy to Cloudflare" button reads; test/deploy-docs.test.ts starts it with `wrangler dev`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox } from '../src/sandbox/index.js';
import { ENV } from '../src/server/config/env.js';
import { emptyDir } from './helpers/cli.js';
import { readImageRuntime } from './helpers/dockerfile.js';
import { type Listening, listen } from './helpers/listen.js';
import {
  dotenvNames,
  readFlyConfig,
  readRenderBlueprint,
  readWranglerConfig,
} from './helpers/platform-files.js';
import { freePortBelowEphemeral } from './helpers/redis.js';
import { authorize, CLIENT_ID, CLIENT_SECRET, postForm, REDIRECT_URI } from './helpers/stack.js';
import { startServerProcess } from './runtimes/server-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const image = readImageRuntime(join(ROOT, 'Dockerfile'));
const SECRETS = ['SPOTIFY_CLIENT_SECRET', 'ENCRYPTION_SECRET', 'LEGACY_ENCRYPTION_SECRET', 'METRICS_TOKEN'];
const REQUIRED = ['SPOTIFY_CLIENT_ID', 'SPOTIFY_CLIENT_SECRET', 'SPOTIFY_REDIRECT_URI', 'ENCRYPTION_SECRET'];
const KNOWN = new Set(Object.keys(ENV));

/** Docker's duration (`30s`) as Fly writes it: the same text. */
const healthcheckOption = (name: string) => image.healthcheck.options[name];

let accounts: Listening;
beforeAll(async () => {
  accounts = await listen(
    createSandbox({
      clients: [
        { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] },
        { clientId: 'your-client-id', clientSecret: CLIENT_SECRET, redirectUris: ['myapp://callback'] },
      ],
      autoApprove: true,
    }).app.fetch,
  );
});
afterAll(() => accounts.close());

/** WORKDIR /app of the image: bin/, dist/, node_modules/ and package.json, and nothing else (no .env). */
function imageWorkdir(): string {
  const dir = emptyDir();
  for (const entry of ['bin', 'dist', 'node_modules', 'package.json']) {
    symlinkSync(join(ROOT, entry), join(dir, entry));
  }
  return dir;
}

/**
 * Starts the image's CMD with the image's ENV under the platform's, as the platform runs the image;
 * but on loopback and a free port (tests bind 127.0.0.1 only), pointed at a sandbox instead of
 * Spotify. Then probes the platform's health path, swaps a code, and stops it with SIGTERM.
 */
async function runLikeThePlatform(platformEnv: Record<string, string>, healthPath: string) {
  const [command, ...args] = image.cmd;
  expect(command).toBe('node');
  const server = await startServerProcess(process.execPath, args, {
    env: {
      ...image.env,
      ...platformEnv,
      HOST: '127.0.0.1',
      PORT: String(await freePortBelowEphemeral()),
      SPOTIFY_ACCOUNTS_URL: accounts.url,
    },
    urlPattern: /is listening on (http:\/\/\S+)/,
    cwd: imageWorkdir(),
  });
  try {
    const health = await fetch(`${server.url}${healthPath}`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const clientId = platformEnv.SPOTIFY_CLIENT_ID ?? '';
    const redirectUri = platformEnv.SPOTIFY_REDIRECT_URI ?? '';
    const { code } = await authorize(accounts.url, { client_id: clientId, redirect_uri: redirectUri });
    const swap = await postForm(`${server.url}/swap`, { code, redirect_uri: redirectUri });
    expect(swap.status).toBe(200);
    expect(((await swap.json()) as { refresh_token?: string }).refresh_token).toMatch(/^sts2\./);
  } finally {
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  }
}

describe('render.yaml (Render Blueprint)', () => {
  const blueprint = readRenderBlueprint(ROOT);
  const [service] = blueprint.services;
  const envVars = new Map((service?.envVars ?? []).map((entry) => [entry.key, entry]));

  it('builds the Dockerfile and keeps its CMD, its port and its health check path', () => {
    expect(resolve(ROOT, service?.dockerfilePath ?? '')).toBe(join(ROOT, 'Dockerfile'));
    expect(resolve(ROOT, service?.dockerContext ?? '')).toBe(ROOT.replace(/\/$/, ''));
    expect(service).not.toHaveProperty('dockerCommand');
    expect(service?.healthCheckPath).toBe(image.healthcheck.path);
    expect(envVars.get('PORT')).toEqual({ key: 'PORT', value: String(image.exposedPort) });
  });

  it('generates ENCRYPTION_SECRET, asks for the Spotify credentials, and commits no secret', () => {
    expect(envVars.get('ENCRYPTION_SECRET')).toEqual({ key: 'ENCRYPTION_SECRET', generateValue: true });
    expect(envVars.get('SPOTIFY_CLIENT_SECRET')).toEqual({ key: 'SPOTIFY_CLIENT_SECRET', sync: false });
    for (const name of REQUIRED) expect(envVars.has(name), name).toBe(true);
    for (const name of SECRETS) expect(envVars.get(name) ?? {}, name).not.toHaveProperty('value');
    for (const name of envVars.keys())
      expect(KNOWN.has(name), `${name} is a variable of the service`).toBe(true);
  });

  it('starts the service as the image does, with the environment Render gives it', async () => {
    const env: Record<string, string> = {};
    for (const entry of envVars.values()) {
      if ('value' in entry) env[entry.key] = entry.value;
      // Render's generateValue: a base64-encoded 256-bit value.
      else if ('generateValue' in entry) env[entry.key] = randomBytes(32).toString('base64');
    }
    // The values asked for at creation (sync: false).
    Object.assign(env, {
      SPOTIFY_CLIENT_ID: CLIENT_ID,
      SPOTIFY_CLIENT_SECRET: CLIENT_SECRET,
      SPOTIFY_REDIRECT_URI: REDIRECT_URI,
    });
    await runLikeThePlatform(env, service?.healthCheckPath ?? '');
  });
});

describe('fly.toml (Fly Launch)', () => {
  const fly = readFlyConfig(ROOT);
  const [check] = fly.http_service.checks;

  it('builds the Dockerfile and keeps its CMD, its port and its HEALTHCHECK', () => {
    expect(fly.build.dockerfile).toBe('Dockerfile');
    expect(existsSync(join(ROOT, fly.build.dockerfile))).toBe(true);
    expect(fly.http_service.internal_port).toBe(image.exposedPort);
    expect(fly.env.PORT ?? image.env.PORT).toBe(String(image.exposedPort));
    expect(check?.path).toBe(image.healthcheck.path);
    expect(check?.interval).toBe(healthcheckOption('interval'));
    expect(check?.timeout).toBe(healthcheckOption('timeout'));
    expect(check?.grace_period).toBe(healthcheckOption('start-period'));
  });

  it('keeps a Machine running, and puts no secret in [env]', () => {
    expect(fly.http_service.min_machines_running).toBeGreaterThanOrEqual(1);
    for (const name of SECRETS) expect(fly.env, name).not.toHaveProperty(name);
    for (const name of Object.keys(fly.env))
      expect(KNOWN.has(name), `${name} is a variable of the service`).toBe(true);
    // What `fly secrets set` provides (docs/deploy/fly.md) and [env] the rest.
    for (const name of REQUIRED.filter((n) => !SECRETS.includes(n)))
      expect(fly.env, name).toHaveProperty(name);
  });

  it('starts the service as the image does, with [env] and the secrets set as the page says', async () => {
    const secrets = {
      SPOTIFY_CLIENT_SECRET: CLIENT_SECRET,
      ENCRYPTION_SECRET: randomBytes(48).toString('base64'),
    };
    await runLikeThePlatform({ ...fly.env, ...secrets }, check?.path ?? '');
  });
});

describe('wrangler.toml (Cloudflare Workers, and the Deploy to Cloudflare button)', () => {
  const wrangler = readWranglerConfig(ROOT);

  it('has an entry its build command writes, and its compatibility date is the one the Workers tests run', () => {
    // The bundle is built, not committed: the [build] command is the script that writes `main`.
    const [node, script, ...rest] = wrangler.build.command.split(' ');
    expect({ node, rest }).toEqual({ node: 'node', rest: [] });
    expect(readFileSync(join(ROOT, script ?? ''), 'utf8')).toContain(`outfile: '${wrangler.main}'`);
    // The tests' Miniflare reads the date from this file, so a deployment and the tests cannot drift.
    const miniflare = readFileSync(join(ROOT, 'test/runtimes/workers-miniflare.ts'), 'utf8');
    expect(miniflare).toContain('compatibilityDate: wrangler.compatibility_date,');
  });

  it('has placeholders for the variables, and lists the secrets in .dev.vars.example for the button', () => {
    for (const name of REQUIRED.filter((n) => !SECRETS.includes(n)))
      expect(wrangler.vars, name).toHaveProperty(name);
    for (const name of SECRETS) expect(wrangler.vars, name).not.toHaveProperty(name);
    for (const name of Object.keys(wrangler.vars))
      expect(KNOWN.has(name), `${name} is a variable of the service`).toBe(true);
    expect(dotenvNames(ROOT, '.dev.vars.example').sort()).toEqual([
      'ENCRYPTION_SECRET',
      'SPOTIFY_CLIENT_SECRET',
    ]);
  });

  it('gives the rate limiting bindings the budgets the RateLimit-Policy header announces', () => {
    const limits = Object.fromEntries(wrangler.ratelimits.map((binding) => [binding.name, binding.simple]));
    expect(limits.SWAP_RATE_LIMITER).toEqual({
      limit: Number(wrangler.vars.RATE_LIMIT_SWAP_PER_MINUTE),
      period: 60,
    });
    expect(limits.REFRESH_RATE_LIMITER).toEqual({
      limit: Number(wrangler.vars.RATE_LIMIT_REFRESH_PER_MINUTE),
      period: 60,
    });
  });
});
