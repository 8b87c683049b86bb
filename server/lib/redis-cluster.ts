import { Cluster, type ClusterOptions as IoClusterOptions, type Command, type RedisOptions } from 'ioredis';
import type { RedisClusterConfig } from '../config';
import type { Logger } from './logger';
import type { RedisHandle } from './redis';
import { guard, RedisUnavailableError } from './redis-guard';

/**
 * How long a command may be bounced around a cluster that is moving (MOVED, ASK, TRYAGAIN,
 * CLUSTERDOWN, or its master's connection closed mid-failover) before it fails as unavailable
 * (a 503): ioredis retries it every RETRY_DELAY_MS, MAX_REDIRECTIONS times. About 3 s: with a
 * node timeout of a few seconds a promoted replica usually answers within it; a request does not
 * wait longer than a browser or a phone would.
 */
const RETRY_DELAY_MS = 200;
const MAX_REDIRECTIONS = 16;

/**
 * ioredis's Cluster with the same typed failures as GuardedRedis (server/lib/redis.ts). With
 * `failFast` (the request handlers' client) a command fails at once while the whole cluster is
 * unreachable instead of waiting in the offline queue. The queue stays on otherwise: a node's
 * connection is opened on its first command, and without the queue that command would fail.
 */
class GuardedCluster extends Cluster {
  failFast = false;

  override sendCommand(command: Command, stream?: Parameters<Cluster['sendCommand']>[1], node?: unknown): unknown {
    guard(command);
    if (this.failFast && this.status !== 'ready') {
      command.reject(new Error(`Redis Cluster is ${this.status}`));
      return command.promise;
    }
    return super.sendCommand(command, stream, node);
  }
}

type ClusterOptions = IoClusterOptions & { redisOptions?: IoClusterOptions['redisOptions'] & { replyMapping?: 'legacy' } };
type NodeOptions = Omit<RedisOptions, 'replyMapping'>;

function clusterOptions(cfg: RedisClusterConfig, node: NodeOptions): ClusterOptions {
  return {
    redisOptions: {
      ...(cfg.password ? { password: cfg.password } : {}),
      ...(cfg.tls ? { tls: {} } : {}),
      ...node,
    },
    // Managed clusters with TLS announce hostnames their certificates name: connect by name.
    ...(cfg.tls ? { dnsLookup: (address: string, done: (err: Error | null, address: string) => void) => done(null, address) } : {}),
    retryDelayOnMoved: 0,
    retryDelayOnFailover: RETRY_DELAY_MS,
    retryDelayOnClusterDown: RETRY_DELAY_MS,
    retryDelayOnTryAgain: RETRY_DELAY_MS,
    maxRedirections: MAX_REDIRECTIONS,
  };
}

/** REDIS_CLUSTER_NODES: the same handle as one Redis, over ioredis's Cluster client. */
export async function connectCluster(cfg: RedisClusterConfig, logger: Logger): Promise<RedisHandle> {
  const seeds = cfg.nodes.map((n) => `${n.host}:${n.port}`).join(',');
  const make = (extra: ClusterOptions, node: NodeOptions) => {
    const c = new GuardedCluster(cfg.nodes, { ...clusterOptions(cfg, node), ...extra });
    c.on('error', (err) => logger.warn({ err }, 'redis cluster connection error'));
    c.on('node error', (err, node) => logger.warn({ err, node }, 'redis cluster node error'));
    return c;
  };
  const client = make({ lazyConnect: true }, { maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    // From now on, while the cluster is unreachable a request fails fast with a 503.
    client.failFast = true;
  } catch (err) {
    client.disconnect();
    throw new RedisUnavailableError(`Redis Cluster at ${seeds} does not answer: ${(err as Error).message}`);
  }
  const extra: Cluster[] = [];
  return {
    url: `cluster:${seeds}`,
    cluster: true,
    client,
    duplicate(o) {
      // A subscriber here listens on shard channels: one connection per master that owns one.
      const c = make({ shardedSubscribers: true }, { maxRetriesPerRequest: null, ...o });
      extra.push(c);
      return c;
    },
    bullConnection() {
      // BullMQ duplicates this client for its blocking connections; it must retry forever.
      const c = make({}, { maxRetriesPerRequest: null });
      extra.push(c);
      return c;
    },
    async close() {
      const all = [client, ...extra];
      await Promise.race([Promise.allSettled(all.map((r) => r.quit())), new Promise((ok) => setTimeout(ok, 1_000).unref())]);
      for (const r of all) r.disconnect();
    },
  };
}
