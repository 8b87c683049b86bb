/**
 * `npm run test:cluster`: the login, multi-instance, webhook, OIDC and billing-quota integration
 * tests again, on one Redis Cluster (3 masters + 3 replicas) started for the run, through
 * TEST_REDIS_CLUSTER_NODES (test/helpers/redis.ts). Extra arguments go to vitest.
 */
import { spawn } from 'node:child_process';
import { startRedisCluster } from './helpers/redis-cluster';

const FILES = [
  'test/integration/login-flow.test.ts',
  'test/integration/multi-instance.test.ts',
  'test/integration/webhooks-login.test.ts',
  'test/integration/oidc-flow.test.ts',
  'test/integration/billing-quota-cache.test.ts',
];

const cluster = await startRedisCluster();
let code = 1;
try {
  const child = spawn('npx', ['vitest', 'run', ...FILES, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, TEST_REDIS_CLUSTER_NODES: cluster.nodes },
  });
  code = await new Promise<number>((ok) => child.once('exit', (c) => ok(c ?? 1)));
} finally {
  await cluster.dispose();
}
process.exit(code);
