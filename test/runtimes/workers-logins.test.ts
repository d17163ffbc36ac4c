/**
 * Revocation and rotation on Workers (docs/deploy/cloudflare-workers.md, "Revocation and rotation"):
 * the bundled Worker in workerd through Miniflare, its LOGINS Durable Object bound as wrangler.toml
 * binds it, against the sandbox over real sockets. Every refusal is checked to reach no Spotify at all
 * (the sandbox counts its token calls), and each starts from a token that worked, so that a refusal
 * is the store's doing and not a broken Worker's.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConformanceSandbox, conformanceEnv, startConformanceSandbox } from '../conformance/suite.js';
import { emptyDir } from '../helpers/cli.js';
import { tokenCalls } from '../helpers/sandbox-control.js';
import { authorize, postForm, REDIRECT_URI } from '../helpers/stack.js';
import { expectNoSecrets } from './secrets.js';
import { buildWorker, disposeAll, type RunningWorker, startWorker, stopWorker } from './workers-miniflare.js';

let sandbox: ConformanceSandbox;
// workerd's stdout reaches this process on its own schedule: a log line is polled for, not expected at once.
const persisted = emptyDir();
/** Every refresh token handed out, and every Worker started: no Worker may print one. */
const tokens: string[] = [];
const workers: RunningWorker[] = [];

async function start(...args: Parameters<typeof startWorker>): Promise<RunningWorker> {
  const worker = await startWorker(...args);
  workers.push(worker);
  return worker;
}

beforeAll(async () => {
  await buildWorker();
  sandbox = await startConformanceSandbox();
});
afterAll(async () => {
  await disposeAll();
  await sandbox?.close();
  rmSync(persisted, { recursive: true, force: true });
});

/** The conformance configuration, but with the default upstream timeout: no test here times Spotify out. */
const env = (extra: Record<string, string> = {}) => {
  const { UPSTREAM_TIMEOUT_MS: _, ...configuration } = conformanceEnv(sandbox.accountsUrl);
  return { ...configuration, ...extra };
};

interface TokenAnswer {
  access_token: string;
  refresh_token?: string;
}

async function swap(worker: RunningWorker): Promise<string> {
  const { code } = await authorize(sandbox.accountsUrl);
  const response = await postForm(new URL('/swap', worker.url).href, { code, redirect_uri: REDIRECT_URI });
  expect(response.status).toBe(200);
  const { refresh_token } = (await response.json()) as TokenAnswer;
  if (refresh_token === undefined) throw new Error('the swap handed out no refresh token');
  tokens.push(refresh_token);
  return refresh_token;
}

async function refresh(worker: RunningWorker, token: string) {
  const response = await postForm(new URL('/refresh', worker.url).href, { refresh_token: token });
  const body = (await response.json()) as TokenAnswer & { error?: string; error_description?: string };
  if (body.refresh_token) tokens.push(body.refresh_token);
  return { status: response.status, body };
}

/** What `send` answers, and that the sandbox's token endpoint saw no call meanwhile. */
async function withoutUpstreamCall<T>(send: () => Promise<T>): Promise<T> {
  const before = await tokenCalls(sandbox.accountsUrl);
  const result = await send();
  expect(await tokenCalls(sandbox.accountsUrl)).toBe(before);
  return result;
}

async function revoke(worker: RunningWorker, token: string) {
  const response = await postForm(new URL('/revoke', worker.url).href, { token });
  return { status: response.status, body: (await response.json()) as unknown };
}

const REVOKED = {
  error: 'invalid_grant',
  error_description: 'The login was revoked: the user must sign in again',
};
const REUSED = {
  error: 'invalid_grant',
  error_description:
    'The login was revoked because a refresh token was used twice: the user must sign in again',
};

describe('Workers with the LOGINS Durable Object', () => {
  it('says at start that revocations are kept in the Durable Object', async () => {
    const worker = await start(env());
    await swap(worker);
    await expect
      .poll(() => worker.output())
      .toContain('revocations and rotations are kept in durable-object');
  });

  it('POST /revoke: 200 {}, then a refresh of that login is invalid_grant without a call to Spotify', async () => {
    const worker = await start(env());
    const token = await swap(worker);
    expect((await refresh(worker, token)).status).toBe(200);
    expect(await revoke(worker, token)).toEqual({ status: 200, body: {} });
    expect(await withoutUpstreamCall(() => refresh(worker, token))).toEqual({ status: 400, body: REVOKED });
    // Revoking again, or a token that is none of ours, is the same 200 (RFC 7009 §2.2).
    expect(await revoke(worker, token)).toEqual({ status: 200, body: {} });
    expect(await revoke(worker, 'sts2.not-a-token')).toEqual({ status: 200, body: {} });
  });

  it('a revocation survives a restart of the Worker on the same Durable Object storage', async () => {
    const first = await start(env(), { persist: persisted });
    const revoked = await swap(first);
    const kept = await swap(first);
    expect(await revoke(first, revoked)).toEqual({ status: 200, body: {} });
    await stopWorker(first);

    const second = await start(env(), { persist: persisted });
    expect((await refresh(second, kept)).status).toBe(200);
    expect(await withoutUpstreamCall(() => refresh(second, revoked))).toEqual({ status: 400, body: REVOKED });
  });

  it('REFRESH_TOKEN_ROTATION=1: a new token each refresh, the predecessor replayed in its grace, the grandparent revokes the login', async () => {
    const worker = await start(env({ REFRESH_TOKEN_ROTATION: '1' }));
    const first = await swap(worker);
    const rotated = await refresh(worker, first);
    expect(rotated.status).toBe(200);
    const second = rotated.body.refresh_token ?? '';
    expect(second).toMatch(/^sts2\./);
    expect(second).not.toBe(first);

    // A lost answer, a second tab: the predecessor again, within the grace, gets the first answer.
    expect(await withoutUpstreamCall(() => refresh(worker, first))).toEqual(rotated);

    const third = (await refresh(worker, second)).body.refresh_token ?? '';
    expect(third).toMatch(/^sts2\./);
    expect(third).not.toBe(second);
    // The grandparent is reuse: the whole login is revoked, the newest token with it.
    expect(await withoutUpstreamCall(() => refresh(worker, first))).toEqual({ status: 400, body: REUSED });
    expect(await withoutUpstreamCall(() => refresh(worker, third))).toEqual({ status: 400, body: REVOKED });
    await expect.poll(() => worker.output()).toContain('a refresh token was used twice: revoked its login');
  });
});

describe('Workers without the LOGINS binding', () => {
  it('POST /revoke answers 501 revocation_unavailable, and start-up says why', async () => {
    const worker = await start(env(), { logins: false });
    const token = await swap(worker);
    const { status, body } = await revoke(worker, token);
    expect({ status, error: (body as { error?: string }).error }).toEqual({
      status: 501,
      error: 'revocation_unavailable',
    });
    await expect
      .poll(() => worker.output())
      .toContain('no login store on this runtime: POST /revoke answers 501');
    expect((await refresh(worker, token)).status).toBe(200);
  });

  it('REFRESH_TOKEN_ROTATION=1 is a configuration error: a JSON 500 naming the setting', async () => {
    const worker = await start(env({ REFRESH_TOKEN_ROTATION: '1' }), { logins: false });
    const { code } = await authorize(sandbox.accountsUrl);
    const response = await postForm(new URL('/swap', worker.url).href, { code, redirect_uri: REDIRECT_URI });
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({
      error: 'server_error',
      error_description: 'The token swap service is misconfigured: REFRESH_TOKEN_ROTATION',
    });
  });
});

describe('the Workers above', () => {
  it('printed no secret and no refresh token', () => {
    const output = workers.map((worker) => worker.output()).join('\n');
    expectNoSecrets(output);
    expect(tokens.length).toBeGreaterThan(5);
    // The sealed part, without the `sts2.` every token shares.
    for (const handedOut of tokens) expect(output).not.toContain(handedOut.slice(5));
  });
});
