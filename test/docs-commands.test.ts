/**
 * Every shell block of docs/ outside docs/deploy/ (test/deploy-docs.test.ts runs those), run as written
 * in the clone, against real running services, with only the ports changed (to free ones) and, where a
 * page speaks of your deployment and its values, the host and the placeholders (as
 * test/clients/readme-curl.test.ts does for the README). A block that cannot run here carries the
 * visible "Not run by the tests" note with its reason; the last test fails for any block that is
 * neither run nor marked.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox } from '../src/sandbox/index.js';
import { type CliRun, emptyDir, runCli } from './helpers/cli.js';
import {
  expectEveryBlockRunOrMarked,
  type ShellBlock,
  shellBlocks,
  shownOutput,
} from './helpers/doc-blocks.js';
import { rubySeal } from './helpers/legacy.js';
import { type Listening, listen } from './helpers/listen.js';
import { startReceiver } from './helpers/otlp-receiver.js';
import { freePort, freePortBelowEphemeral } from './helpers/redis.js';
import { localize, personEnvironment, runBlock, type Session, startBlock } from './helpers/shell-session.js';
import { authorize, postForm, postJson, SECRET_A } from './helpers/stack.js';

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PAGES = readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
  .filter((path) => path.endsWith('.md') && !path.startsWith('deploy/'))
  .map((path) => `docs/${path}`);
const BLOCKS = PAGES.flatMap((page) => shellBlocks(ROOT, page));
const ran = new Set<ShellBlock>();
/** Blocks whose commands need what this machine has not: in command position, as deploy-docs has it. */
const CANNOT_RUN_HERE = /(^\s*|[(;&|]\s*)(sudo|systemctl|docker|podman|ssh|scp) /m;
/** Run by a test file of their own, which reads them from the page. */
const RUN_ELSEWHERE = [
  { page: 'docs/benchmarks.md', text: 'BENCH_DURATION=1 ', runner: 'test/bench-smoke.test.ts' },
  {
    page: 'docs/benchmarks.md',
    text: 'WORKERS_COLD_SAMPLES=1 ',
    runner: 'test/runtimes/workers-cold-bench.test.ts',
  },
  {
    page: 'docs/benchmarks.md',
    text: 'LAMBDA_SAMPLES=1 ',
    runner: 'test/runtimes/lambda-import-bench.test.ts',
  },
  { page: 'docs/benchmarks.md', text: 'CPU_SECONDS=1 ', runner: 'test/bench-cpu-smoke.test.ts' },
  { page: 'docs/benchmarks.md', text: 'IP_REQUESTS=500 ', runner: 'test/bench-cpu-smoke.test.ts' },
  { page: 'docs/benchmarks.md', text: 'IR_REQUESTS=50 ', runner: 'test/bench-cpu-smoke.test.ts' },
  { page: 'docs/benchmarks.md', text: 'IF_REQUESTS=2 ', runner: 'test/bench-cpu-smoke.test.ts' },
  { page: 'docs/benchmarks.md', text: 'RUNTIMES_SAMPLES=1 ', runner: 'test/bench-cpu-smoke.test.ts' },
  {
    page: 'docs/benchmarks.md',
    text: 'CPU_BEFORE_FLAGS=none CPU_SECONDS=2 ',
    runner: 'test/bench-cpu-smoke.test.ts',
  },
  { page: 'docs/benchmarks.md', text: 'IDLE_SECONDS=1 ', runner: 'test/bench-cpu-smoke.test.ts' },
];

/** The one block of `page` that contains `text`, counted as run. */
function block(page: string, text: string): ShellBlock {
  const found = BLOCKS.filter((b) => b.page === `docs/${page}` && b.body.includes(text));
  if (found.length !== 1 || !found[0])
    throw new Error(`${page}: ${found.length} shell blocks contain "${text}"`);
  ran.add(found[0]);
  return found[0];
}

/** The sandbox's app, as the person running the blocks has its credentials set. */
const APP = {
  SPOTIFY_CLIENT_ID: 'sandbox-client-id',
  SPOTIFY_CLIENT_SECRET: 'sandbox-client-secret-not-for-production',
};
/** The Ruby service's page names its app `your-client-id`. */
const RUBY_APP = { clientId: 'your-client-id', clientSecret: 'your-client-secret' };

let accounts: Listening;
let sandboxServe: CliRun;
/** The terminal where `npx token-swap serve --sandbox` runs on the documented port 3000. */
let session: Session;

beforeAll(async () => {
  const sandbox = createSandbox({
    clients: [
      {
        clientId: APP.SPOTIFY_CLIENT_ID,
        clientSecret: APP.SPOTIFY_CLIENT_SECRET,
        // The redirect URIs of the pages' service configurations.
        redirectUris: [
          'http://127.0.0.1/callback',
          'myapp://callback',
          'myapp://spotify-auth',
          'http://127.0.0.1:5543/callback',
          'https://app.example.com/callback',
        ],
      },
      { ...RUBY_APP, redirectUris: ['myapp://callback'] },
    ],
    autoApprove: true,
  });
  accounts = await listen(sandbox.app.fetch);
  sandboxServe = runCli(['serve', '--sandbox', '--port', '0']);
  const [, url = ''] = await sandboxServe.waitFor(/Swap service\s+(http:\/\/\S+)/);
  session = { cwd: ROOT, env: personEnvironment(), ports: new Map([[3000, Number(new URL(url).port)]]) };
});
afterAll(async () => {
  sandboxServe?.child.kill('SIGTERM');
  await sandboxServe?.exited;
  await accounts?.close();
});

/** The service as a page configures it: its block, then the start of docs/deploy/node.md, on a free port. */
async function serviceConfiguredBy(config: ShellBlock) {
  const start = shellBlocks(ROOT, 'docs/deploy/node.md').find((b) => b.body.startsWith('PORT=3000 node '));
  expect(start?.body).toBe('PORT=3000 node bin/token-swap.js serve\n');
  const port = await freePortBelowEphemeral();
  const env = { ...personEnvironment(), ...APP, SPOTIFY_ACCOUNTS_URL: accounts.url };
  const script = { ...config, body: `${config.body}${start?.body}` };
  const server = await startBlock(script, { cwd: ROOT, env, ports: new Map([[3000, port]]) }, 3000);
  return { url: `http://127.0.0.1:${port}`, server };
}

/** A code as the client gets it: authorized at the sandbox with the app's redirect URI. */
async function codeFor(redirectUri: string, clientId = APP.SPOTIFY_CLIENT_ID): Promise<string> {
  return (await authorize(accounts.url, { client_id: clientId, redirect_uri: redirectUri })).code;
}

async function expectTokens(response: Response): Promise<Record<string, unknown>> {
  const body = (await response.json()) as Record<string, unknown>;
  expect(response.status, JSON.stringify(body)).toBe(200);
  expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
  expect(body.refresh_token).toMatch(/^sts2\./);
  return body;
}

describe('docs/clients: each service configuration, run as written, serves its client', () => {
  // The iOS SDK, SpotifyAPI-NET and expo-spotify-sdk's swap send the code alone: the default redirect URI must do.
  for (const [page, redirectUri] of [
    ['clients/ios-sdk.md', 'myapp://callback'],
    ['clients/spotifyapi-net.md', 'http://127.0.0.1:5543/callback'],
    ['clients/swift.md', 'myapp://spotify-auth'],
  ] as const) {
    it(`${page}: a swap of the code alone`, async () => {
      const { url, server } = await serviceConfiguredBy(block(page, 'ENCRYPTION_SECRET='));
      try {
        await expectTokens(await postForm(`${url}/swap`, { code: await codeFor(redirectUri) }));
      } finally {
        await server.stop();
      }
    });
  }

  it('clients/cli.md: a swap from a loopback catcher on any port', async () => {
    const { url, server } = await serviceConfiguredBy(block('clients/cli.md', 'ENCRYPTION_SECRET='));
    try {
      const redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
      await expectTokens(
        await postForm(`${url}/swap`, { code: await codeFor(redirectUri), redirect_uri: redirectUri }),
      );
    } finally {
      await server.stop();
    }
  });

  it("clients/browser.md: the app's origin gets its preflight and its swap, and credentialed CORS on the session endpoints", async () => {
    const { url, server } = await serviceConfiguredBy(block('clients/browser.md', 'ENCRYPTION_SECRET='));
    const origin = 'https://app.example.com';
    try {
      const preflight = await fetch(`${url}/swap`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
      const redirectUri = `${origin}/callback`;
      const code = await codeFor(redirectUri);
      const swapped = await postJson(`${url}/swap`, { code, redirect_uri: redirectUri }, { Origin: origin });
      expect(swapped.headers.get('access-control-allow-origin')).toBe(origin);
      await expectTokens(swapped);
      // Cookie mode: the kit's X-CSRF costs a preflight, answered with credentials for the listed origin.
      const sessionPreflight = await fetch(`${url}/session/swap`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'x-csrf',
        },
      });
      expect(sessionPreflight.status).toBe(204);
      expect(sessionPreflight.headers.get('access-control-allow-credentials')).toBe('true');
      expect(sessionPreflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-csrf');
      const session = await postForm(
        `${url}/session/swap`,
        { code: await codeFor(redirectUri), redirect_uri: redirectUri },
        { Origin: origin, 'X-CSRF': '1' },
      );
      expect(session.status).toBe(200);
      expect(session.headers.get('set-cookie')).toMatch(/^__Host-token-swap=tsc1\./);
      expect(await session.json()).not.toHaveProperty('refresh_token');
    } finally {
      await server.stop();
    }
  });

  it("clients/ruby-service-clients.md: the old paths, and the old service's tokens, with its variable names", async () => {
    const { url, server } = await serviceConfiguredBy(
      block('clients/ruby-service-clients.md', 'LEGACY_ENCRYPTION_SECRET='),
    );
    try {
      const [swapLine = '', refreshLine = ''] = block('clients/ruby-service-clients.md', 'curl -s')
        .body.trim()
        .split('\n');
      // Not execFileSync: the sandbox answers from this process.
      const run = async (line: string, placeholder: string, value: string) => {
        expect(line).toContain(placeholder);
        const text = line.replaceAll('https://swap.example.com', url).replaceAll(placeholder, value);
        const { stdout } = await execFileAsync('bash', ['-euo', 'pipefail', '-c', text], {
          env: session.env,
        });
        return JSON.parse(stdout) as Record<string, unknown>;
      };
      const swapped = await run(swapLine, 'AQD...', await codeFor('myapp://callback', RUBY_APP.clientId));
      expect(swapped.refresh_token).toMatch(/^sts2\./);
      const refreshed = await run(refreshLine, 'sts2.AbC...', String(swapped.refresh_token));
      expect(Object.keys(refreshed)).toEqual([
        'access_token',
        'token_type',
        'expires_in',
        'scope',
        'refresh_token_expires_in',
      ]);

      // A token the Ruby service sealed with its ENCRYPTION_SECRET, the page's LEGACY_ENCRYPTION_SECRET.
      const minted = await postJson(`${accounts.url}/__sandbox/mint`, {
        refreshTokens: 1,
        clientId: RUBY_APP.clientId,
        redirectUri: 'myapp://callback',
        scopes: ['user-read-email'],
      });
      const [spotifyToken = ''] = ((await minted.json()) as { refreshTokens: string[] }).refreshTokens;
      const old = rubySeal(spotifyToken, 'the-old-ENCRYPTION_SECRET');
      const migrated = await postForm(`${url}/api/refresh_token`, { refresh_token: old });
      expect(((await migrated.json()) as { refresh_token?: string }).refresh_token).toMatch(/^sts2\./);
    } finally {
      await server.stop();
    }
  });
});

describe('against `npx token-swap serve --sandbox` on the documented port', () => {
  it('clients/cli.md: log in, then call the Web API with `token-swap token`', { timeout: 60_000 }, () => {
    const env = {
      // The person at the browser, clicking Agree; and a private config directory for the login.
      BROWSER: fileURLToPath(new URL('./helpers/agreeing-browser.mjs', import.meta.url)),
      XDG_CONFIG_HOME: emptyDir(),
    };
    const sandboxBlock = block('clients/cli.md', '--accounts-url http://127.0.0.1:3000/sandbox');
    const [login = '', call = ''] = sandboxBlock.body.trim().split('\n');
    expect(runBlock({ ...sandboxBlock, body: login }, session, env)).toMatch(
      /^Logged in as Sandbox User \(sandbox-[\w-]+\)\.$/m,
    );
    const shown = shownOutput(call);
    expect(shown).toBeDefined();
    expect(runBlock({ ...sandboxBlock, body: call }, session, env).trim()).toMatch(shown ?? /^$/);
  });

  it('troubleshooting.md: the demo opened on localhost moves to 127.0.0.1', () => {
    const printed = runBlock(block('troubleshooting.md', 'http://localhost:3000/demo'), session).trim();
    expect(printed).toBe(localize('http://127.0.0.1:3000/demo', session.ports));
    const page = readFileSync(join(ROOT, 'docs/troubleshooting.md'), 'utf8');
    expect(page).toContain('It prints `http://127.0.0.1:3000/demo`.');
  });
});

/** The terminal of a person who has set the app's variables (README, "Run it for a real Spotify app"). */
async function appTerminal(): Promise<{ session: Session; port: number }> {
  const port = await freePortBelowEphemeral();
  const env = {
    ...personEnvironment(),
    ...APP,
    SPOTIFY_REDIRECT_URI: 'myapp://callback',
    SPOTIFY_ACCOUNTS_URL: accounts.url,
    PORT: String(port),
  };
  return { session: { cwd: ROOT, env, ports: new Map() }, port };
}

describe('docs/troubleshooting.md and docs/observability.md, started as written', () => {
  it('serve without a sealing secret: the message shown, then the fix', async () => {
    const fix = block('troubleshooting.md', 'export ENCRYPTION_SECRET=$(npx --no-install token-swap secret)');
    const terminal = await appTerminal();
    const [, serve = ''] = fix.body.trim().split('\n');
    const { cwd, env } = terminal.session;
    const refused = spawnSync('bash', ['-euo', 'pipefail', '-c', serve], { cwd, env, encoding: 'utf8' });
    expect(refused.status).toBe(1);
    const page = readFileSync(join(ROOT, 'docs/troubleshooting.md'), 'utf8');
    const shown = /```text\n(token-swap: Invalid configuration:\n[\s\S]*?)```/.exec(page)?.[1];
    expect(shown).toBeDefined();
    expect(refused.stderr).toContain(shown);

    const server = await startBlock(fix, terminal.session, terminal.port);
    await server.stop();
  });

  it('a SIGTERM to the server started with node itself stops it gracefully', async () => {
    const terminal = await appTerminal();
    const direct = block('troubleshooting.md', 'bin/token-swap.js serve');
    const server = await startBlock(
      direct,
      { ...terminal.session, env: { ...terminal.session.env, ENCRYPTION_SECRET: SECRET_A } },
      terminal.port,
    );
    expect(await server.stop()).toBe(0);
    expect(server.output()).toContain('"msg":"stopped"');
  });

  it('observability.md: serve --sandbox exports its traces to the collector on 4318', async () => {
    const receiver = await startReceiver();
    const port = await freePortBelowEphemeral();
    const ports = new Map([[4318, Number(new URL(receiver.url).port)]]);
    try {
      const start = block('observability.md', 'OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318');
      const server = await startBlock(
        start,
        // A batch every 200 ms instead of 5 s: the export a person sees in Jaeger within seconds.
        {
          cwd: ROOT,
          env: { ...personEnvironment(), PORT: String(port), OTEL_BSP_SCHEDULE_DELAY: '200' },
          ports,
        },
        port,
      );
      // The README's walk-through: the consent form, agreed, and the code it redirects with.
      const decided = await fetch(`http://127.0.0.1:${port}/sandbox/authorize`, {
        method: 'POST',
        body: new URLSearchParams({
          client_id: 'sandbox-client-id',
          response_type: 'code',
          redirect_uri: 'http://127.0.0.1:8888/callback',
          scope: 'user-read-email',
          state: 'demo',
          decision: 'agree',
        }),
        redirect: 'manual',
      });
      const code = new URL(decided.headers.get('location') ?? '').searchParams.get('code') ?? '';
      await expectTokens(
        await postForm(`http://127.0.0.1:${port}/swap`, {
          code,
          redirect_uri: 'http://127.0.0.1:8888/callback',
        }),
      );
      try {
        await expect.poll(() => receiver.exports.length, { timeout: 10_000 }).toBeGreaterThan(0);
      } finally {
        await server.stop();
      }
      expect(receiver.exports[0]?.path).toBe('/v1/traces');
      expect(receiver.exports[0]?.contentType).toBe('application/x-protobuf');
      expect(receiver.rawText()).toContain('spotify-token-swap');
    } finally {
      await receiver.close();
    }
  });
});

describe('docs/, outside docs/deploy/', () => {
  it('names, on each client page, the test in test/clients that proves it', () => {
    const pages = PAGES.filter((page) => page.startsWith('docs/clients/') && !page.endsWith('README.md'));
    expect(pages.length).toBeGreaterThanOrEqual(6);
    for (const page of pages) {
      // The page's test in test/clients first, then any other test that proves a part of it.
      const line = /^Proven by: (test\/clients\/[\w-]+\.test\.ts(?:, test\/[\w/-]+\.test\.ts)*)$/m.exec(
        readFileSync(join(ROOT, page), 'utf8'),
      )?.[1];
      expect(line, page).toBeDefined();
      for (const proof of line?.split(', ') ?? []) {
        expect(existsSync(join(ROOT, proof)), `${page}: ${proof}`).toBe(true);
      }
    }
  });

  it('runs every shell block, or marks it as not run here with the reason', () => {
    for (const { page, text, runner } of RUN_ELSEWHERE) {
      const found = BLOCKS.filter((b) => b.page === page && b.body.includes(text));
      expect(found, `${page}: "${text}"`).toHaveLength(1);
      expect(readFileSync(join(ROOT, runner), 'utf8'), runner).toContain(`'${page}'`);
      for (const b of found) ran.add(b);
    }
    expectEveryBlockRunOrMarked(BLOCKS, ran, CANNOT_RUN_HERE);
  });
});
