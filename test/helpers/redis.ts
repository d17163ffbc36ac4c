import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

const REDIS_SERVER = '/usr/bin/redis-server';

export interface RedisProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** SIGKILL: Redis vanishes without a goodbye, as in a crash. */
  kill(): Promise<void>;
  client(): Redis;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The ports this process handed out, so that two servers of one test never get the same one. */
const handedOut = new Set<number>();

/**
 * A free loopback port below Linux's ephemeral range (32768-60999), for a server that binds it later
 * (one a test starts through a shell, in a container, or again on the same port after a crash): a port
 * the kernel handed out (freePort) can be handed out again to another test's `listen(0)` before the
 * server binds it, and the test would talk to that one. Each Vitest worker (VITEST_POOL_ID, 1 to
 * maxWorkers) draws from its own 3,000 ports of 20000-32000, so workers never pick the same one either.
 */
export async function freePortBelowEphemeral(): Promise<number> {
  const slot = (Math.max(1, Number(process.env.VITEST_POOL_ID) || 1) - 1) % 4;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + slot * 3_000 + Math.floor(Math.random() * 3_000);
    if (handedOut.has(port)) continue;
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) {
      await new Promise((resolve) => server.close(resolve));
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port between 20000 and 32000');
}

/** A throwaway redis-server on a free loopback port, without persistence. */
export async function startRedis(port?: number): Promise<RedisProcess> {
  const chosen = port ?? (await freePortBelowEphemeral());
  const child = spawn(
    REDIS_SERVER,
    [
      '--port',
      String(chosen),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'yes',
    ],
    { stdio: 'ignore' },
  );
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(new Error(`cannot start ${REDIS_SERVER} (apt-get install redis-server): ${error.message}`)),
    );
  });
  const url = `redis://127.0.0.1:${chosen}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    probe.on('error', () => {});
    try {
      await Promise.race([probe.connect().then(() => probe.ping()), failed]);
      probe.disconnect();
      break;
    } catch (error) {
      probe.disconnect();
      if (Date.now() > deadline || child.exitCode !== null) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const clients: Redis[] = [];
  return {
    url,
    port: chosen,
    child,
    client() {
      const client = new Redis(url);
      client.on('error', () => {});
      clients.push(client);
      return client;
    },
    async kill() {
      for (const client of clients) client.disconnect();
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
