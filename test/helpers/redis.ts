import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Set by `npm run test:cluster` (test/run-on-cluster.ts): the tests that build their servers
 * with testConfig run them on this Redis Cluster instead of TEST_REDIS_URL.
 */
export const TEST_REDIS_CLUSTER_NODES = process.env.TEST_REDIS_CLUSTER_NODES || undefined;

/** The environment that points a server at the test Redis: the cluster when one is given. */
export function testRedisEnv(): Record<string, string> {
  return TEST_REDIS_CLUSTER_NODES ? { REDIS_CLUSTER_NODES: TEST_REDIS_CLUSTER_NODES } : { REDIS_URL: TEST_REDIS_URL };
}

/** A client of the test Redis for a test's own reads, cluster-aware like the servers'. */
export function testRedisClient(): Redis | Cluster {
  if (!TEST_REDIS_CLUSTER_NODES) return new Redis(TEST_REDIS_URL);
  return new Cluster(TEST_REDIS_CLUSTER_NODES.split(',').map((n) => ({ host: n.split(':')[0], port: Number(n.split(':')[1]) })));
}

/** A key prefix of this test file's own; cleanup deletes every key under it. */
export function testRedisPrefix(label = 't'): { prefix: string; cleanup(): Promise<void> } {
  const prefix = `wsltest-${label.replace(/[^a-z0-9]/gi, '').slice(0, 16)}-${randomBytes(4).toString('hex')}`;
  return {
    prefix,
    async cleanup() {
      // A cluster is the run's own and is thrown away whole after it.
      if (TEST_REDIS_CLUSTER_NODES) return;
      const r = new Redis(TEST_REDIS_URL);
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length) await r.del(...keys);
      } while (cursor !== '0');
      await r.quit();
    },
  };
}
