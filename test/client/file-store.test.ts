import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDpopKey, createDpopProof, type StoredLogin } from '../../src/client/index.js';
import { createFileStore, defaultStorePath, TokenStoreError } from '../../src/client/node/index.js';
import { verifyProof } from '../helpers/dpop.js';

const login = (n: number): StoredLogin => ({
  swapUrl: 'http://127.0.0.1:3000',
  clientId: 'client',
  tokens: {
    accessToken: `BQ${n}`.padEnd(200, 'x'),
    tokenType: 'Bearer',
    scopes: ['user-read-email'],
    expiresAt: 1_000 + n,
    refreshToken: `AQ${n}`,
  },
});

function tempPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'store-test-')), 'nested', 'tokens.json');
}

describe('file token store', () => {
  it('round-trips a login, in a 0600 file inside a 0700 directory', async () => {
    const path = tempPath();
    const store = createFileStore(path);
    expect(await store.load()).toBeUndefined();
    await store.save(login(1));
    expect(await store.load()).toEqual(login(1));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    await store.clear();
    expect(await store.load()).toBeUndefined();
    await store.clear();
  });

  it("keeps the login's end, and still loads a login stored before the kit knew it", async () => {
    const path = tempPath();
    const store = createFileStore(path);
    const ending = { ...login(1), tokens: { ...login(1).tokens, refreshTokenExpiresAt: 1_780_000_000_000 } };
    await store.save(ending);
    expect(await store.load()).toEqual(ending);
    // A file as an older kit wrote it: no refreshTokenExpiresAt.
    writeFileSync(path, JSON.stringify(login(2)));
    const old = await store.load();
    expect(old).toEqual(login(2));
    expect(old && 'refreshTokenExpiresAt' in old.tokens).toBe(false);
    writeFileSync(
      path,
      JSON.stringify({ ...login(3), tokens: { ...login(3).tokens, refreshTokenExpiresAt: 'soon' } }),
    );
    await expect(store.load()).rejects.toThrow(TokenStoreError);
  });

  it('writes atomically: readers never see a partial file, and no temp file is left behind', async () => {
    const path = tempPath();
    const store = createFileStore(path);
    await store.save(login(0));
    const reads: Promise<unknown>[] = [];
    const writes = Array.from({ length: 40 }, (_, i) => store.save(login(i)));
    for (let i = 0; i < 200; i++) reads.push(store.load());
    await Promise.all(writes);
    for (const read of await Promise.all(reads)) {
      expect((read as StoredLogin).tokens.accessToken).toMatch(/^BQ\d+x+$/);
    }
    expect(readdirSync(join(path, '..'))).toEqual(['tokens.json']);
  });

  it('refuses a corrupt file with a message that says what to do', async () => {
    const path = tempPath();
    const store = createFileStore(path);
    await store.save(login(1));
    writeFileSync(path, '{"swapUrl": 1');
    await expect(store.load()).rejects.toThrow(TokenStoreError);
    await expect(store.load()).rejects.toThrow(/token-swap logout/);
    writeFileSync(path, '{"hello": "world"}');
    await expect(store.load()).rejects.toThrow(TokenStoreError);
  });

  it('locks: a second holder waits until the first releases', async () => {
    const store = createFileStore(tempPath());
    const order: string[] = [];
    const release = await store.lock?.();
    const second = store.lock?.().then((r) => {
      order.push('second acquired');
      return r;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    order.push('first releasing');
    await release?.();
    await (await second)?.();
    expect(order).toEqual(['first releasing', 'second acquired']);
  });

  it('takes over a lock left by a process that died', async () => {
    const path = tempPath();
    const store = createFileStore(path, { lockTimeoutMs: 2_000 });
    await (await store.lock?.())?.();
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    const deadPid = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid ?? 0)));
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: deadPid, at: new Date().toISOString() }));
    const release = await store.lock?.();
    expect(JSON.parse(readFileSync(`${path}.lock`, 'utf8')).pid).toBe(process.pid);
    await release?.();
  });

  it('gives up on a live lock after the timeout, with a clear error', async () => {
    const path = tempPath();
    const holder = createFileStore(path);
    const release = await holder.lock?.();
    const waiter = createFileStore(path, { lockTimeoutMs: 200 });
    await expect(waiter.lock?.()).rejects.toThrow(/Timed out waiting for the lock/);
    await release?.();
  });
});

describe('defaultStorePath', () => {
  it('follows each platform convention', () => {
    expect(defaultStorePath({ XDG_CONFIG_HOME: '/xdg' }, 'linux', '/home/u')).toBe(
      '/xdg/spotify-token-swap/tokens.json',
    );
    expect(defaultStorePath({}, 'linux', '/home/u')).toBe('/home/u/.config/spotify-token-swap/tokens.json');
    expect(defaultStorePath({}, 'darwin', '/Users/u')).toBe(
      '/Users/u/Library/Application Support/spotify-token-swap/tokens.json',
    );
    expect(defaultStorePath({ APPDATA: 'C:\\AppData' }, 'win32', 'C:\\u')).toContain('spotify-token-swap');
  });
});

describe('file token store with a DPoP key', () => {
  it('keeps the key as a private JWK in the 0600 file, and loads a key that signs as the same one', async () => {
    const path = tempPath();
    const store = createFileStore(path);
    const key = await createDpopKey({ extractable: true });
    await store.save({ ...login(1), dpopKey: key });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(path, 'utf8'));
    expect(file.dpopJwk).toMatchObject({ kty: 'EC', crv: 'P-256', d: expect.any(String) });
    expect(file).not.toHaveProperty('dpopKey');

    const loaded = await store.load();
    expect(loaded).toMatchObject(login(1));
    const again = loaded?.dpopKey;
    expect(again?.publicJwk).toEqual(key.publicJwk);
    const proof = await createDpopProof(again ?? key, { method: 'POST', url: 'http://127.0.0.1/refresh' });
    expect((await verifyProof(proof)).header.jwk).toEqual(key.publicJwk);
    // Saved again (a rotated token) it stays the same key.
    await store.save({ ...(loaded ?? login(2)), tokens: login(2).tokens });
    expect((await store.load())?.dpopKey?.publicJwk).toEqual(key.publicJwk);
  });

  it('refuses to write a non-extractable key, and leaves the stored login as it was', async () => {
    const path = tempPath();
    const store = createFileStore(path);
    await store.save(login(1));
    await expect(store.save({ ...login(2), dpopKey: await createDpopKey() })).rejects.toThrow(
      /not extractable/,
    );
    expect(await store.load()).toEqual(login(1));
  });

  it('calls a file with a broken key corrupt, and still loads a login stored without one', async () => {
    const path = tempPath();
    const store = createFileStore(path);
    await store.save(login(1));
    expect((await store.load())?.dpopKey).toBeUndefined();
    writeFileSync(
      path,
      JSON.stringify({ ...login(1), dpopJwk: { kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c' } }),
    );
    await expect(store.load()).rejects.toMatchObject({ code: 'corrupt' });
    writeFileSync(path, JSON.stringify({ ...login(1), dpopJwk: 'not a key' }));
    await expect(store.load()).rejects.toBeInstanceOf(TokenStoreError);
  });
});
