/**
 * A TokenStore in a JSON file: mode 0600 in a 0700 directory, written atomically (temp file,
 * fsync, rename) so a crash never leaves half a file, with a lock file that serializes refreshes
 * across processes. A login's DPoP key is written in it as a private JWK (`dpopJwk`): a CryptoKey
 * cannot be written to a file unless it is extractable, so the key of a login kept here must be made
 * with `createDpopKey({ extractable: true })`. The file then is the secret, as it already is for the
 * refresh token the key protects: 0600, never logged.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { exportDpopKey, importDpopKey } from '../dpop.js';
import type { ReleaseLock, StoredLogin, TokenStore } from '../store.js';

export const STORE_DIR_NAME = 'spotify-token-swap';

/** The user's config directory, per platform conventions (XDG on Linux). */
export function defaultStorePath(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  let base: string;
  if (platform === 'win32') {
    base = env.APPDATA || join(home, 'AppData', 'Roaming');
  } else if (platform === 'darwin') {
    base = join(home, 'Library', 'Application Support');
  } else {
    base = env.XDG_CONFIG_HOME || join(home, '.config');
  }
  return join(base, STORE_DIR_NAME, 'tokens.json');
}

export class TokenStoreError extends Error {
  override readonly name = 'TokenStoreError';
  readonly code: 'corrupt' | 'lock_timeout';
  readonly path: string;

  constructor(code: 'corrupt' | 'lock_timeout', path: string) {
    super(
      code === 'corrupt'
        ? `The token store ${path} is not a valid login file; remove it (token-swap logout) and log in again`
        : `Timed out waiting for the lock on ${path}.lock; if no other token-swap is running, delete that file`,
    );
    this.code = code;
    this.path = path;
  }
}

export interface FileStoreOptions {
  /** Give up waiting for another process's lock after this long. Default 30 s. */
  lockTimeoutMs?: number;
  /** A lock older than this is presumed abandoned. Default 60 s, well above any refresh. */
  staleLockMs?: number;
}

/** A login as the file holds it: the DPoP key as a private JWK, not a CryptoKey. */
type FileLogin = Omit<StoredLogin, 'dpopKey'> & { dpopJwk?: JsonWebKey };

/** Logins stored before DPoP have no key, and keep loading. */
function isKeyOrNone(jwk: unknown): boolean {
  if (jwk === undefined) return true;
  const key = jwk as Record<string, unknown> | null;
  return typeof key === 'object' && key !== null && ['x', 'y', 'd'].every((k) => typeof key[k] === 'string');
}

function isStoredLogin(value: unknown): value is FileLogin {
  const login = value as FileLogin | null;
  return (
    typeof login === 'object' &&
    login !== null &&
    typeof login.swapUrl === 'string' &&
    typeof login.tokens === 'object' &&
    login.tokens !== null &&
    typeof login.tokens.accessToken === 'string' &&
    typeof login.tokens.expiresAt === 'number' &&
    Array.isArray(login.tokens.scopes) &&
    // Logins stored before the kit knew the login's end have none, and keep loading.
    (login.tokens.refreshTokenExpiresAt === undefined ||
      Number.isFinite(login.tokens.refreshTokenExpiresAt)) &&
    isKeyOrNone(login.dpopJwk)
  );
}

async function fromFile(path: string, stored: FileLogin): Promise<StoredLogin> {
  const { dpopJwk, ...login } = stored;
  if (dpopJwk === undefined) return login;
  try {
    return { ...login, dpopKey: await importDpopKey(dpopJwk) };
  } catch {
    throw new TokenStoreError('corrupt', path);
  }
}

async function toFile(login: StoredLogin): Promise<FileLogin> {
  const { dpopKey, ...rest } = login;
  return dpopKey === undefined ? rest : { ...rest, dpopJwk: await exportDpopKey(dpopKey) };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createFileStore(
  path: string = defaultStorePath(),
  options: FileStoreOptions = {},
): TokenStore {
  const lockPath = `${path}.lock`;
  const lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
  const staleLockMs = options.staleLockMs ?? 60_000;

  async function ensureDir() {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  }

  async function lockIsStale(): Promise<boolean> {
    try {
      const [text, info] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
      const pid = Number(JSON.parse(text).pid);
      return Date.now() - info.mtimeMs > staleLockMs || (Number.isInteger(pid) && !processAlive(pid));
    } catch {
      // Unreadable or half-written: only stale once old enough.
      try {
        return Date.now() - (await stat(lockPath)).mtimeMs > staleLockMs;
      } catch {
        return false;
      }
    }
  }

  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new TokenStoreError('corrupt', path);
      }
      if (!isStoredLogin(parsed)) {
        throw new TokenStoreError('corrupt', path);
      }
      return fromFile(path, parsed);
    },

    async save(login) {
      const text = `${JSON.stringify(await toFile(login), null, 2)}\n`;
      await ensureDir();
      const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(text, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await rename(temp, path);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    },

    async clear() {
      await rm(path, { force: true });
    },

    async lock(): Promise<ReleaseLock> {
      await ensureDir();
      const deadline = Date.now() + lockTimeoutMs;
      for (;;) {
        try {
          const handle = await open(lockPath, 'wx', 0o600);
          await handle.writeFile(JSON.stringify({ pid: process.pid, at: new Date().toISOString() }));
          await handle.close();
          return async () => {
            await unlink(lockPath).catch(() => {});
          };
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
        if (await lockIsStale()) {
          await unlink(lockPath).catch(() => {});
          continue;
        }
        if (Date.now() > deadline) {
          throw new TokenStoreError('lock_timeout', path);
        }
        await sleep(20 + Math.random() * 40);
      }
    },
  };
}
