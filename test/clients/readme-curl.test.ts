/**
 * Every curl example in README.md that test/readme.test.ts does not already run: the HTTP API examples
 * against `https://swap.example.com`. Each runs as written, with real curl, with only the host and the
 * placeholders (`AQD...`, `sts2.AbC...`) replaced by a running stack and real values, and its output is
 * checked against the outcome the README states under it.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, SECRET_A, type Stack, startStack } from '../helpers/stack.js';

const run = promisify(execFile);
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Sections whose examples test/readme.test.ts runs against `serve --sandbox`. */
const RUN_ELSEWHERE = ['Walk through the flow with curl', 'Log in from the command line', 'The sandbox'];

interface Example {
  section: string;
  script: string;
  /** The README text from the end of the block to the next block or heading: the stated outcome. */
  outcome: string;
}

function curlExamples(): Example[] {
  const examples: Example[] = [];
  let section = '';
  const pattern = /^## (.+)$|^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let match = pattern.exec(README); match; match = pattern.exec(README)) {
    if (match[1] !== undefined) {
      section = match[1];
      continue;
    }
    const [, , lang, body = ''] = match;
    if (lang !== 'sh' || !/\bcurl\b/.test(body)) continue;
    const after = README.slice(pattern.lastIndex);
    const end = after.search(/^```|^#{2,4} /m);
    examples.push({ section, script: body, outcome: after.slice(0, end === -1 ? undefined : end) });
  }
  return examples;
}

const examples = curlExamples().filter((e) => !RUN_ELSEWHERE.includes(e.section));

let stack: Stack;
let rotating: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { ENCRYPTION_SECRET: SECRET_A } });
  rotating = await startStack({
    env: { ENCRYPTION_SECRET: SECRET_A },
    sandbox: { rotateRefreshTokens: true },
  });
});
afterAll(async () => {
  await stack.close();
  await rotating.close();
});

/** A code as the app in the examples gets it: authorized with its redirect URI, myapp://callback. */
async function code(target: Stack): Promise<string> {
  return (await authorize(target.accounts.url, { redirect_uri: 'myapp://callback' })).code;
}

async function sealedRefreshToken(target: Stack): Promise<string> {
  const response = await fetch(`${target.service.url}/swap`, {
    method: 'POST',
    body: new URLSearchParams({ code: await code(target), redirect_uri: 'myapp://callback' }),
  });
  return ((await response.json()) as { refresh_token: string }).refresh_token;
}

/** Runs an example as written, but for the host and the placeholder values. */
async function runExample(
  script: string,
  target: Stack,
  values: Record<string, string>,
  env: Record<string, string> = {},
): Promise<unknown> {
  let text = script.replaceAll('https://swap.example.com', target.service.url);
  for (const [placeholder, value] of Object.entries(values)) {
    expect(text, `the example uses ${placeholder}`).toContain(placeholder);
    text = text.replaceAll(placeholder, value);
  }
  expect(text).not.toContain('...');
  const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', text], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return JSON.parse(stdout);
}

/** The fields the README names, in backticks, in the `200` sentence after an example. */
function statedFields(outcome: string): string[] {
  const sentence = /`200`:([^\n]*(?:\n(?!\n)[^\n]*)*)/.exec(outcome)?.[1] ?? '';
  return [...sentence.matchAll(/`([a-z_]+)`/g)].map((m) => m[1] ?? '');
}

describe('README curl examples outside the walk-through', () => {
  it('are the OAuth library example and the three HTTP API examples, and nothing here is left unrun', () => {
    expect(examples.map((e) => [e.section, e.script.match(/swap\.example\.com(\/\w+)/)?.[1]])).toEqual([
      ['Use it from any OAuth library', '/token'],
      ['HTTP API', '/swap'],
      ['HTTP API', '/refresh'],
      ['HTTP API', '/revoke'],
    ]);
  });

  it('POST /swap: 200 with the fields stated, expires_in a number, the refresh token sealed', async () => {
    const example = examples.find((e) => e.script.includes('swap.example.com/swap'));
    if (!example) throw new Error('no /swap example');
    expect(statedFields(example.outcome)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'scope',
      'refresh_token',
      'refresh_token_expires_in',
    ]);
    const body = (await runExample(example.script, stack, { 'AQD...': await code(stack) })) as Record<
      string,
      unknown
    >;
    expect(Object.keys(body)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'scope',
      'refresh_token',
      'refresh_token_expires_in',
    ]);
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(3600);
    expect(body.scope).toBe('user-read-email user-read-private');
    // "sealed, unless the operator opted out with `ENCRYPTION_SECRET=none`"
    expect(body.refresh_token).toMatch(/^sts2\.[A-Za-z0-9_-]+$/);
  });

  it('POST /token: 200 with the fields stated, what /swap answers', async () => {
    const example = examples.find((e) => e.script.includes('swap.example.com/token'));
    if (!example) throw new Error('no /token example');
    const fields = [
      'access_token',
      'token_type',
      'expires_in',
      'scope',
      'refresh_token',
      'refresh_token_expires_in',
    ];
    expect(statedFields(example.outcome).slice(0, fields.length)).toEqual(fields);
    const body = (await runExample(
      example.script,
      stack,
      { 'AQD...': await code(stack) },
      { SPOTIFY_CLIENT_ID: stack.config.apps[0]?.clientId ?? '' },
    )) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(fields);
    expect(body.expires_in).toBe(3600);
    expect(body.refresh_token).toMatch(/^sts2\.[A-Za-z0-9_-]+$/);
  });

  it('POST /refresh: 200 with the fields stated, refresh_token only when Spotify rotated it', async () => {
    const example = examples.find((e) => e.script.includes('swap.example.com/refresh'));
    if (!example) throw new Error('no /refresh example');
    expect(statedFields(example.outcome)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'scope',
      'refresh_token',
      'refresh_token_expires_in',
    ]);
    expect(example.outcome).toContain('`refresh_token` only when there is a new one');

    const kept = (await runExample(example.script, stack, {
      'sts2.AbC...': await sealedRefreshToken(stack),
    })) as Record<string, unknown>;
    expect(Object.keys(kept)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'scope',
      'refresh_token_expires_in',
    ]);
    expect(kept.expires_in).toBe(3600);

    const old = await sealedRefreshToken(rotating);
    const rotated = (await runExample(example.script, rotating, { 'sts2.AbC...': old })) as Record<
      string,
      unknown
    >;
    expect(Object.keys(rotated)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'scope',
      'refresh_token',
      'refresh_token_expires_in',
    ]);
    expect(rotated.refresh_token).toMatch(/^sts2\.[A-Za-z0-9_-]+$/);
    expect(rotated.refresh_token).not.toBe(old);
  });

  it('POST /revoke: 200 {} for a live token and an unknown one alike, and the revoked login refreshes no more', async () => {
    const example = examples.find((e) => e.script.includes('swap.example.com/revoke'));
    if (!example) throw new Error('no /revoke example');
    expect(example.outcome).toContain('`200` with `{}`, whatever the token');

    const sealed = await sealedRefreshToken(stack);
    expect(await runExample(example.script, stack, { 'sts2.AbC...': sealed })).toEqual({});
    const refused = await fetch(`${stack.service.url}/refresh`, {
      method: 'POST',
      body: new URLSearchParams({ refresh_token: sealed }),
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'invalid_grant' });
    // Again, and with a token the service never handed out: the same answer, telling a prober nothing.
    expect(await runExample(example.script, stack, { 'sts2.AbC...': sealed })).toEqual({});
    expect(await runExample(example.script, stack, { 'sts2.AbC...': 'sts2.never-issued' })).toEqual({});
  });
});
