import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Redis, type ChainableCommander, type Cluster, type Command, type RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'bullmq';
import type { RedisClusterConfig } from '../config';
import type { Logger } from './logger';
import { connectCluster } from './redis-cluster';
import { guard, RedisUnavailableError } from './redis-guard';

export { RedisUnavailableError };

export type { Redis };

/** One Redis or a Redis Cluster: both speak the same commands, so features take either. */
export type RedisClient = Redis | Cluster;

export interface RedisHandle {
  /** For logs: the URL, or `cluster:` and the seed nodes. */
  url: string;
  /** True on a Redis Cluster: every multi-key command, MULTI and script must stay in one slot. */
  cluster: boolean;
  /** Commands for request handlers: no offline queue, so a Redis outage fails fast. */
  client: RedisClient;
  /** A fresh connection for a subscriber or a blocking BullMQ worker. */
  duplicate(opts?: RedisOptions): RedisClient;
  /** What BullMQ connects with (it must retry forever): options for one Redis, a Cluster client for a cluster. */
  bullConnection(): ConnectionOptions;
  close(): Promise<void>;
}


/**
 * ioredis with typed failures: a command that fails because Redis can't be reached (no
 * connection, connection lost, retries spent, timed out) rejects with UnavailableError, so
 * callers and the HTTP edge tell an outage from Redis's own answers (ReplyError: a script's
 * error, a wrong type), which pass through unchanged.
 */
class GuardedRedis extends Redis {
  constructor(url: string, options: Omit<RedisOptions, 'replyMapping'>) {
    super(url, options);
  }

  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    guard(command);
    return super.sendCommand(command, stream);
  }
}

/**
 * Runs a pipeline and answers its values in order. ioredis reports each command's failure in its
 * reply instead of rejecting; here the first failure (an UnavailableError in an outage) throws.
 */
export async function pipelineValues(pipeline: ChainableCommander): Promise<unknown[]> {
  const replies = (await pipeline.exec()) ?? [];
  const failed = replies.find(([err]) => err);
  if (failed) throw failed[0];
  return replies.map(([, value]) => value);
}

async function answers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? ok(addr.port) : fail(new Error('no port'))));
    });
  });
}

/** The embedded default: a private redis-server on a free port, data under DATA_DIR. */
async function startPrivateRedis(dataDir: string, logger: Logger): Promise<{ url: string; child: ChildProcess }> {
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  if (which.status !== 0) {
    throw new RedisUnavailableError(
      'No Redis at redis://127.0.0.1:6379 and no redis-server on PATH: install Redis (apt-get install redis-server) or set REDIS_URL',
    );
  }
  const dir = resolve(join(dataDir, 'redis'));
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec',
      '--maxmemory-policy', 'noeviction', '--save', ''],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    if (await answers(url)) {
      logger.info({ port }, 'started a private redis-server (set REDIS_URL to use your own)');
      return { url, child };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new RedisUnavailableError('Could not start a private redis-server; set REDIS_URL');
}

export async function connectRedis(opts: {
  url?: string;
  /** Set: a Redis Cluster instead of `url` (config refuses both). */
  cluster?: RedisClusterConfig;
  dataDir: string;
  logger: Logger;
  /** Where to look before starting a private server; only tests change it. */
  defaultUrl?: string;
}): Promise<RedisHandle> {
  if (opts.cluster) return connectCluster(opts.cluster, opts.logger);
  let url = opts.url ?? opts.defaultUrl ?? 'redis://127.0.0.1:6379';
  let child: ChildProcess | undefined;
  if (!opts.url && !(await answers(url))) {
    ({ url, child } = await startPrivateRedis(opts.dataDir, opts.logger));
  }
  // No enableAutoPipelining: measured at 250 logins/s it raised confirm→success p99 from ~11 ms
  // to 28–100 ms (commands wait for the next tick) and gave no throughput at saturation.
  const client = new GuardedRedis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  client.on('error', (err) => opts.logger.warn({ err }, 'redis connection error'));
  try {
    await client.connect();
  } catch (err) {
    child?.kill();
    throw new RedisUnavailableError(`Redis at ${url.replace(/\/\/[^@]*@/, '//***@')} does not answer: ${(err as Error).message}`);
  }
  const extra: Redis[] = [];
  return {
    url,
    cluster: false,
    client,
    duplicate(o) {
      const r = new GuardedRedis(url, { maxRetriesPerRequest: null, ...o });
      r.on('error', (err) => opts.logger.warn({ err }, 'redis connection error'));
      extra.push(r);
      return r;
    },
    bullConnection: () => {
      const u = new URL(url);
      return {
        host: u.hostname,
        port: Number(u.port || 6379),
        ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
        ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
        ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
        ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
        maxRetriesPerRequest: null,
      };
    },
    async close() {
      // quit() waits for Redis to answer; if it is gone, drop the connections instead.
      const all = [client, ...extra];
      await Promise.race([Promise.allSettled(all.map((r) => r.quit())), new Promise((ok) => setTimeout(ok, 1_000).unref())]);
      for (const r of all) r.disconnect();
      if (child) {
        child.kill('SIGTERM');
        await new Promise((r) => child!.once('exit', r));
      }
    },
  };
}
