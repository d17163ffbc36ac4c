/**
 * The real image: built from the Dockerfile exactly as users build it, with only the base image
 * swapped (the NODE_IMAGE build argument) for the local stand-in of node:22-slim that
 * scripts/container/base-image.sh makes, since CI reaches no container registry. podman runs it with
 * `--runtime runc` and explicit rlimits (the default runtime fails on this machine's cgroups and
 * rlimits), in the host's network namespace, listening on 127.0.0.1 only. It runs as its non-root
 * user, passes its HEALTHCHECK, swaps and refreshes against the sandbox, logs no secret, and stops on
 * SIGTERM with exit 0. The commands are the Docker page's (docs/deploy/docker.md), which this test
 * checks it runs. Without podman it is skipped, except in CI, where .ci/run installs it.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox } from '../src/sandbox/index.js';
import { type Listening, listen } from './helpers/listen.js';
import { emptyProject, ROOT } from './helpers/npm-project.js';
import { freePortBelowEphemeral } from './helpers/redis.js';
import { authorize, CLIENT_ID, CLIENT_SECRET, postForm, REDIRECT_URI, SECRET_A } from './helpers/stack.js';

const PODMAN = '/usr/bin/podman';
const DOCKER_PAGE = readFileSync(join(ROOT, 'docs/deploy/docker.md'), 'utf8').replace(/ \\\n\s*/g, ' ');
const BASE_IMAGE = 'localhost/token-swap-node:22';
const BUILD = `podman build --format docker --network host --build-arg NODE_IMAGE=${BASE_IMAGE} -t spotify-token-swap .`;
const RUN =
  'podman run -d --name token-swap --runtime runc --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 ' +
  '--network host -e HOST=127.0.0.1 -e PORT=3000 --env-file .env spotify-token-swap';
/** The image holds Debian's minimal root, Node and npm, the production dependencies and dist/. */
const MAX_IMAGE_BYTES = 300 * 1024 * 1024;

const skipped =
  !existsSync(PODMAN) && !process.env.CI
    ? ' (skipped: podman is not installed; apt-get install podman buildah runc debootstrap uidmap)'
    : '';

const exec = promisify(execFile);
async function podman(args: string[], timeoutMs = 60_000): Promise<string> {
  if (!existsSync(PODMAN))
    throw new Error('podman is not installed: .ci/run installs it (apt-get install podman)');
  try {
    const { stdout, stderr } = await exec(PODMAN, args, {
      cwd: ROOT,
      timeout: timeoutMs,
      maxBuffer: 16 << 20,
    });
    // `podman logs` writes the container's stderr (the start-up banner) to its own.
    return (args[0] === 'logs' ? stdout + stderr : stdout).trim();
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`podman ${args.join(' ')} failed:\n${stdout}\n${stderr}`, { cause: error });
  }
}

/** Polls until the URL answers 200 (expect.poll works only inside a test, and this is the set-up). */
async function firstHealthyAnswer(url: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const status = await fetch(url).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await delay(50);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

const name = `token-swap-test-${process.pid}`;
let accounts: Listening;
let service: string;
let startedInMs: number;
let builtInS: number;

describe.skipIf(skipped !== '')(`the container image${skipped}`, () => {
  beforeAll(async () => {
    await podman(['image', 'exists', BASE_IMAGE]).catch((cause: unknown) => {
      throw new Error(`no base image ${BASE_IMAGE}: bash scripts/container/base-image.sh`, { cause });
    });
    accounts = await listen(
      createSandbox({
        clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
        autoApprove: true,
      }).app.fetch,
    );
    expect(DOCKER_PAGE).toContain(BUILD);
    const building = performance.now();
    await podman(BUILD.split(' ').slice(1), 600_000);
    builtInS = Math.round((performance.now() - building) / 1000);

    // The page's run command, with a free port and this test's own container name and .env.
    const port = String(await freePortBelowEphemeral());
    const dir = emptyProject('container');
    writeFileSync(
      join(dir, '.env'),
      [
        `SPOTIFY_CLIENT_ID=${CLIENT_ID}`,
        `SPOTIFY_CLIENT_SECRET=${CLIENT_SECRET}`,
        `SPOTIFY_REDIRECT_URI=${REDIRECT_URI}`,
        `SPOTIFY_ACCOUNTS_URL=${accounts.url}`,
        `ENCRYPTION_SECRET=${SECRET_A}`,
        '',
      ].join('\n'),
    );
    expect(DOCKER_PAGE).toContain(RUN);
    const args = RUN.replace('--name token-swap', `--name ${name}`)
      .replace('PORT=3000', `PORT=${port}`)
      .replace('--env-file .env', `--env-file ${join(dir, '.env')}`)
      .split(' ')
      .slice(1);
    const started = performance.now();
    await podman(args);
    service = `http://127.0.0.1:${port}`;
    await firstHealthyAnswer(`${service}/healthz`, 20_000);
    startedInMs = Math.round(performance.now() - started);
  }, 900_000);
  afterAll(async () => {
    await podman(['rm', '--force', '--time', '0', name]).catch(() => undefined);
    await accounts?.close();
  });

  it('holds production dependencies and the build only, within its size budget', async () => {
    const size = Number(await podman(['image', 'inspect', '--format', '{{.Size}}', 'spotify-token-swap']));
    console.log(
      `image: ${(size / 1e6).toFixed(1)} MB, built in ${builtInS} s; ` +
        `/healthz answered ${startedInMs} ms after podman run`,
    );
    expect(size).toBeLessThan(MAX_IMAGE_BYTES);
    expect((await podman(['exec', name, 'ls', '/app'])).split('\n')).toEqual([
      'bin',
      'dist',
      'node_modules',
      'package-lock.json',
      'package.json',
    ]);
    // Packages, not folders: npm 10 leaves empty scope folders (@biomejs/, ...) for omitted packages.
    const manifests = await podman([
      'exec',
      name,
      'find',
      '/app/node_modules',
      '-maxdepth',
      '3',
      '-name',
      'package.json',
    ]);
    const modules = manifests
      .split('\n')
      .map((path) => path.replace(/^\/app\/node_modules\/(.*)\/package\.json$/, '$1'));
    expect(modules).toEqual(expect.arrayContaining(['hono', 'pino', 'zod']));
    for (const tool of ['typescript', 'esbuild', '@biomejs', 'vitest', 'bun', 'deno', 'miniflare']) {
      expect(modules).not.toContain(tool);
    }
  });

  it('runs as its non-root node user and passes its own HEALTHCHECK', async () => {
    expect(await podman(['image', 'inspect', '--format', '{{.Config.User}}', 'spotify-token-swap'])).toBe(
      'node',
    );
    const status = await podman(['exec', name, 'cat', '/proc/1/status']);
    expect(status).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
    // Exit 0 when the image's HEALTHCHECK command succeeds: the page's `podman healthcheck run token-swap`.
    expect(DOCKER_PAGE).toContain('podman healthcheck run token-swap');
    await podman(['healthcheck', 'run', name]);
  });

  it('swaps and refreshes against the sandbox, and logs no secret', async () => {
    const { code } = await authorize(accounts.url);
    const swap = await postForm(`${service}/swap`, { code });
    expect(swap.status).toBe(200);
    const tokens = (await swap.json()) as { access_token: string; refresh_token: string };
    expect(tokens.refresh_token).toMatch(/^sts2\./);
    const refresh = await postForm(`${service}/refresh`, { refresh_token: tokens.refresh_token });
    expect(refresh.status).toBe(200);
    const logs = await podman(['logs', name]);
    expect(logs).toContain('listening on');
    for (const secret of [code, tokens.access_token, tokens.refresh_token, CLIENT_SECRET, SECRET_A]) {
      expect(logs).not.toContain(secret);
    }
  });

  it('stops on SIGTERM with exit code 0', async () => {
    // `podman stop` sends SIGTERM and, 10 s later, SIGKILL (exit code 137): 0 means the service stopped itself.
    expect(DOCKER_PAGE).toContain('podman stop token-swap');
    await podman(['stop', name], 30_000);
    expect(await podman(['inspect', '--format', '{{.State.ExitCode}}', name])).toBe('0');
  });
});
