/**
 * The README's key-rotation procedure ("Rotate a secret without logging anybody out"), run as written:
 * the new secret first and the old after it, restart; watch the metric it names by the key ids the
 * start-up log line it names gives; drop the old secret. A client that refreshed in between keeps its
 * login although Spotify never rotated its token (issue 13); one that did not must sign in again.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../src/sandbox/index.js';
import { type Listening, listen } from './helpers/listen.js';
import { metric } from './helpers/metrics.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  REDIRECT_URI,
  SECRET_A,
  SECRET_B,
  type Stack,
  startStack,
} from './helpers/stack.js';
import { login, refresh } from './helpers/tokens.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const procedure = README.slice(
  README.indexOf('Rotate a secret without logging anybody out'),
  README.indexOf('## The sandbox'),
);

let sandbox: Sandbox;
let accounts: Listening;
beforeAll(async () => {
  // Spotify rarely rotates a confidential app's refresh token: the sandbox never does here.
  sandbox = createSandbox({
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
    autoApprove: true,
    rotateRefreshTokens: false,
  });
  accounts = await listen(sandbox.app.fetch);
});
afterAll(() => accounts.close());

/** The service (re)started with `ENCRYPTION_SECRET` as a step sets it. */
function serve(encryptionSecret: string): Promise<Stack> {
  return startStack({
    env: { ENCRYPTION_SECRET: encryptionSecret },
    accounts: { sandbox, listening: accounts },
  });
}

function keyIds(stack: Stack): string[] {
  const line = stack.logs.find((entry) => entry.msg === 'sealing key ids');
  return (line?.keyIds as string[] | undefined) ?? [];
}

describe('README key rotation procedure', () => {
  it('moves every client that refreshes to the new secret, then drops the old one', async () => {
    // The names the procedure tells the operator to use.
    expect(procedure).toContain('`ENCRYPTION_SECRET=new,old`');
    expect(procedure).toContain('`token_swap_refresh_token_key_total`');
    expect(procedure).toContain('(`sealing key ids`)');
    expect(procedure).toContain('`ENCRYPTION_SECRET=new`');

    const before = await serve(SECRET_A);
    const active = await login(before);
    const dormant = await login(before);
    const [oldKey] = keyIds(before);
    await before.close();

    // Step 1: ENCRYPTION_SECRET=new,old, restart.
    const both = await serve(`${SECRET_B},${SECRET_A}`);
    const [newKey, sameOldKey] = keyIds(both);
    expect(sameOldKey).toBe(oldKey);
    expect(newKey).not.toBe(oldKey);
    const moved = await refresh(both, active.refreshToken);
    expect(moved.status).toBe(200);
    expect(moved.body.refresh_token).toEqual(expect.stringMatching(/^sts2\./));
    const newToken = String(moved.body.refresh_token);
    // The client keeps what came back: sealed under the new key, so nothing more to hand out.
    expect((await refresh(both, newToken)).body.refresh_token).toBeUndefined();

    // Step 2: the metric by key id says which keys the refreshed tokens were sealed with.
    const count = (key: string | undefined) =>
      metric(both, 'token_swap_refresh_token_key_total', { key: key ?? '', format: 'sts2' });
    expect(await count(oldKey)).toBe(1);
    expect(await count(newKey)).toBe(1);
    await both.close();

    // Step 3: ENCRYPTION_SECRET=new.
    const after = await serve(SECRET_B);
    expect((await refresh(after, newToken)).status).toBe(200);
    expect((await refresh(after, dormant.refreshToken)).body).toMatchObject({ error: 'invalid_grant' });
    await after.close();
  });
});
