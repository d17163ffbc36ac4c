/**
 * The Docker image cannot be built on these machines, so this test rebuilds its runtime stage by
 * hand from the Dockerfile's own lines: production dependencies only (`npm ci --omit=dev
 * --ignore-scripts`), `bin/` and `dist/`, started with the image's CMD and probed with its
 * HEALTHCHECK. What CI proves here is what the image does.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox } from '../src/sandbox/index.js';
import { type Listening, listen } from './helpers/listen.js';
import { freePort } from './helpers/redis.js';
import { authorize, CLIENT_ID, CLIENT_SECRET, postForm, REDIRECT_URI, SECRET_A } from './helpers/stack.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const runtimeStage = DOCKERFILE.slice(DOCKERFILE.indexOf(' AS runtime'));

function jsonInstruction(name: string): string[] {
  const match = new RegExp(`^${name}(?: [^[]*)?\\s+(\\[.*\\])\\s*$`, 'm').exec(
    runtimeStage.replace(/\\\n\s*/g, ''),
  );
  if (!match?.[1]) throw new Error(`no ${name} [...] in the runtime stage of the Dockerfile`);
  return JSON.parse(match[1]) as string[];
}

let stage: string;
let accounts: Listening;

beforeAll(async () => {
  accounts = await listen(
    createSandbox({
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
      autoApprove: true,
    }).app.fetch,
  );
  stage = mkdtempSync(join(tmpdir(), 'image-'));
  // The runtime stage, line by line: COPY package*.json, RUN npm ci --omit=dev ..., COPY bin, COPY dist.
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(ROOT, file), join(stage, file));
  expect(runtimeStage).toContain('npm ci --omit=dev --ignore-scripts');
  execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: stage,
    stdio: 'ignore',
  });
  expect(runtimeStage).toMatch(/^COPY bin \.\/bin$/m);
  expect(runtimeStage).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
  cpSync(join(ROOT, 'bin'), join(stage, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'dist'), join(stage, 'dist'), { recursive: true });
}, 120_000);
afterAll(() => accounts.close());

describe('the Docker image runtime stage', () => {
  it('starts with the image CMD on production dependencies, passes its HEALTHCHECK, swaps, and stops on SIGTERM', async () => {
    const [command = '', ...args] = jsonInstruction('CMD');
    // Node flags may come first (test/production-launch.test.ts checks which); the rest is fixed.
    expect(command).toBe('node');
    expect(args.slice(-2)).toEqual(['bin/token-swap.js', 'serve']);
    const port = String(await freePort());
    const env = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      // The image sets HOST=0.0.0.0; tests listen on loopback only.
      HOST: '127.0.0.1',
      PORT: port,
      SPOTIFY_CLIENT_ID: CLIENT_ID,
      SPOTIFY_CLIENT_SECRET: CLIENT_SECRET,
      SPOTIFY_REDIRECT_URI: REDIRECT_URI,
      SPOTIFY_ACCOUNTS_URL: accounts.url,
      ENCRYPTION_SECRET: SECRET_A,
    };
    const child = spawn(process.execPath, args, { cwd: stage, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await expect.poll(() => stderr, { timeout: 10_000 }).toContain('listening on');
      const [probe = '', ...probeArgs] = jsonInstruction('HEALTHCHECK(?: --[\\w-]+=\\S+)*\\s+CMD');
      expect(probe).toBe('node');
      execFileSync(process.execPath, probeArgs, { cwd: stage, env, stdio: 'ignore' });

      const { code } = await authorize(accounts.url);
      const swap = await postForm(`http://127.0.0.1:${port}/swap`, { code });
      expect(swap.status).toBe(200);
      expect(((await swap.json()) as { refresh_token: string }).refresh_token).toMatch(/^sts2\./);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
