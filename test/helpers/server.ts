import { loadConfig, type Config } from '../../server/config';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpApp } from '../../server/app';
import type { Core, Feature } from '../../server/core';
import { buildCore, startServer, type RunningServer, type StartOptions } from '../../server/main';
import { createTestDatabase } from './db';
import { testRedisEnv, testRedisPrefix } from './redis';

export interface TestEnv {
  databaseUrl: string;
  redisPrefix: string;
  /** Boot one more server process-in-process on the same database and Redis prefix. */
  start(env?: Record<string, string>, opts?: StartOptions): Promise<RunningServer>;
  /** The configuration start() would use, for tests that build parts of the server themselves. */
  config(env?: Record<string, string>): Config;
  dispose(): Promise<void>;
}

export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

export function testConfig(databaseUrl: string, redisPrefix: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATABASE_URL: databaseUrl,
    // A test on a cluster of its own (test/helpers/redis-cluster.ts) names it instead.
    ...(env.REDIS_CLUSTER_NODES ? {} : testRedisEnv()),
    REDIS_PREFIX: redisPrefix,
    MASTER_KEY: TEST_MASTER_KEY,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    ...env,
  });
}

/**
 * A database and Redis prefix of this test file's own, and servers booted on them. Servers
 * get PORT=0, and PUBLIC_URL is set to the bound address after start when not given.
 */
export async function createTestEnv(label: string): Promise<TestEnv> {
  const db = await createTestDatabase(label);
  const redis = testRedisPrefix(label);
  const servers: RunningServer[] = [];
  return {
    databaseUrl: db.url,
    redisPrefix: redis.prefix,
    config: (env = {}) => testConfig(db.url, redis.prefix, env),
    async start(env = {}, opts = {}) {
      const s = await startServer(testConfig(db.url, redis.prefix, env), opts);
      servers.push(s);
      return s;
    },
    async dispose() {
      await Promise.allSettled(servers.map((s) => s.close()));
      await db.drop();
      await redis.cleanup();
    },
  };
}

/**
 * A core on a private database and Redis prefix, serving only the features `build` makes:
 * for testing one feature without depending on what main.ts registers.
 */
export async function serveFeatures(label: string, build: (core: Core) => Feature[], env: Record<string, string> = {}) {
  const db = await createTestDatabase(label);
  const redis = testRedisPrefix(label);
  // Listening first, so the core is built with its real PUBLIC_URL.
  let app: ReturnType<typeof createHttpApp> | undefined;
  const http = createServer((req, res) => app!(req, res));
  await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const core = await buildCore(testConfig(db.url, redis.prefix, { PUBLIC_URL: url, ...env }));
  app = createHttpApp(core, build(core));
  return {
    core,
    url,
    async dispose() {
      http.closeAllConnections();
      await new Promise<void>((ok) => http.close(() => ok()));
      await core.jobs.close();
      await core.redis.close();
      await core.database.close();
      await db.drop();
      await redis.cleanup();
    },
  };
}
