/**
 * A TokenStore in the browser's IndexedDB, for a login made with a DPoP key. IndexedDB keeps what
 * structured cloning keeps, a CryptoKey included, so the non-extractable private key is stored as it
 * is: a script on the page can sign with it while it runs, but no script can read it out, and a
 * refresh token bound to it (README, "DPoP: a refresh token that works only with this app's key") is
 * useless anywhere else. The refresh token itself is readable there, as in any web storage: without
 * DPoP, keep tokens in memory or `sessionStorage` instead (docs/clients/browser.md).
 */
import type { StoredLogin, TokenStore } from './store.js';

export interface IndexedDbStoreOptions {
  /** The database's name, one login each. Default `spotify-token-swap`. */
  name?: string;
  /** Injected for tests and workers; the global `indexedDB` by default. */
  indexedDB?: IDBFactory;
}

const OBJECTS = 'logins';
const KEY = 'login';

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function createIndexedDbStore(options: IndexedDbStoreOptions = {}): TokenStore {
  const name = options.name ?? 'spotify-token-swap';
  let opened: Promise<IDBDatabase> | undefined;

  function database(): Promise<IDBDatabase> {
    if (!opened) {
      const request = (options.indexedDB ?? indexedDB).open(name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(OBJECTS);
      opened = done(request);
      // A failed open is tried again on the next call.
      opened.catch(() => {
        opened = undefined;
      });
    }
    return opened;
  }

  /** One request in its own transaction, resolved once the transaction has committed. */
  async function run<T>(mode: IDBTransactionMode, act: (objects: IDBObjectStore) => IDBRequest<T>) {
    const transaction = (await database()).transaction(OBJECTS, mode);
    const result = done(act(transaction.objectStore(OBJECTS)));
    await new Promise<void>((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
    return result;
  }

  return {
    async load() {
      return (await run('readonly', (objects) => objects.get(KEY))) as StoredLogin | undefined;
    },
    async save(login) {
      await run('readwrite', (objects) => objects.put(login, KEY));
    },
    async clear() {
      await run('readwrite', (objects) => objects.delete(KEY));
    },
  };
}
