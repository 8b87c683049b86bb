import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../server/config';
import type { RunningServer } from '../../server/main';
import { createTestEnv, TEST_MASTER_KEY, type TestEnv } from '../helpers/server';
import { freePort } from '../helpers/private-redis';
import { startRedisCluster, type TestCluster } from '../helpers/redis-cluster';
import { createTestApp, loginInSandbox, openSocket, postJson, testScan } from '../helpers/login';

let cluster: TestCluster;
let env: TestEnv;
let a: RunningServer;
let worker: RunningServer;
let b: { url: string; child: ChildProcess };
let app: Awaited<ReturnType<typeof createTestApp>>;

/** A second instance in an OS process of its own, configured as an operator would: REDIS_CLUSTER_NODES only. */
async function startProcess(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { REDIS_URL: _unset, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: {
      ...inherited, NODE_ENV: 'test', PORT: String(port), PUBLIC_URL: url, DATABASE_URL: env.databaseUrl,
      REDIS_CLUSTER_NODES: cluster.nodes, REDIS_PREFIX: env.redisPrefix, MASTER_KEY: TEST_MASTER_KEY, LOG_LEVEL: 'warn', ROLE: 'api',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server process exited with ${child.exitCode}`);
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) return { url, child };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server process did not become ready');
}

beforeAll(async () => {
  cluster = await startRedisCluster();
  env = await createTestEnv('cluster');
  a = await env.start({ REDIS_CLUSTER_NODES: cluster.nodes, ROLE: 'api' });
  worker = await env.start({ REDIS_CLUSTER_NODES: cluster.nodes, ROLE: 'worker', SANDBOX_WECHAT_API_BASE: `${a.url}/sandbox/wechat` });
  b = await startProcess();
  app = await createTestApp(a);
}, 90_000);

afterAll(async () => {
  if (b?.child.exitCode === null) {
    b.child.kill('SIGTERM');
    await new Promise((r) => b.child.once('exit', r));
  }
  await env?.dispose();
  await cluster?.dispose();
});

describe('configuration', () => {
  it('REDIS_URL and REDIS_CLUSTER_NODES together stop start-up with one line', () => {
    const both = () => loadConfig({ NODE_ENV: 'test', MASTER_KEY: TEST_MASTER_KEY, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '127.0.0.1:7000' });
    expect(both).toThrow(ConfigError);
    expect(both).toThrow(/^REDIS_URL and REDIS_CLUSTER_NODES are both set[^\n]*$/);
  });

  it('the nodes list is parsed, a bad one refused', () => {
    const c = loadConfig({ NODE_ENV: 'test', MASTER_KEY: TEST_MASTER_KEY, REDIS_CLUSTER_NODES: '10.0.0.1:7000,redis-b.internal:7001', REDIS_CLUSTER_TLS: 'true' });
    expect(c.redisCluster).toEqual({ nodes: [{ host: '10.0.0.1', port: 7000 }, { host: 'redis-b.internal', port: 7001 }], password: undefined, tls: true });
    expect(c.redisUrl).toBeUndefined();
    expect(() => loadConfig({ NODE_ENV: 'test', MASTER_KEY: TEST_MASTER_KEY, REDIS_CLUSTER_NODES: 'redis://10.0.0.1:7000' })).toThrow(/^REDIS_CLUSTER_NODES: /);
  });
});

describe('two instances and a worker on a 3-master Redis Cluster', () => {
  it('the instances connected to the cluster, not to a single Redis', () => {
    expect(a.core.redis.cluster).toBe(true);
    expect(a.core.redis.url).toBe(`cluster:${cluster.nodes}`);
  });

  it('the socket on one instance, the phone on the other: the token arrives through a shard channel', async () => {
    const sock = await openSocket(a.url, app.keys.test.publishable);
    const s = await sock.next('session');
    // Each instance listens on a shard channel of its own, on whichever master owns its slot.
    const channels = await cluster.shardChannels(`${env.redisPrefix}:inst:*`);
    expect(channels).toContain(`${env.redisPrefix}:inst:${a.core.instanceId}`);
    expect(channels).toContain(`${env.redisPrefix}:inst:${worker.core.instanceId}`);
    expect(channels.length).toBe(3);
    const scan = await testScan(b.url, app.keys.test.secret, String(s.session), 'o_cluster');
    expect(scan.status).toBe(200);
    await sock.next('scanned');
    const confirm = await postJson(`${b.url}/v1/mp/confirm`, { scene: s.session, ticket: scan.body.ticket });
    expect(confirm.status).toBe(200);
    const success = await sock.next('success');
    expect((success.user as { openid: string }).openid).toBe('o_cluster');
    sock.close();
  });

  it('the code image, made by the worker through BullMQ, is served by either instance', async () => {
    const sock = await openSocket(b.url, app.keys.test.publishable);
    const s = await sock.next('session');
    const img = await fetch(String(s.qr).replace(b.url, a.url));
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toMatch(/^image\//);
    sock.close();
  });

  it("one app's sessions spread over every master, each confirm waiting for a replica", async () => {
    const waitsBefore = (await cluster.commandStats()).get('wait') ?? 0;
    const logins = await Promise.all(Array.from({ length: 24 }, (_, i) => loginInSandbox(i % 2 ? a.url : b.url, app.keys.test, `o_spread_${i}`)));
    expect(new Set(logins.map((l) => l.token)).size).toBe(24);
    const counts = await cluster.keysByMaster(`${env.redisPrefix}:sess:`);
    expect(counts.size).toBe(3);
    for (const n of counts.values()) expect(n).toBeGreaterThan(0);
    // WAIT 1 after each confirmed login's write, on the session's own master.
    expect(((await cluster.commandStats()).get('wait') ?? 0) - waitsBefore).toBe(24);
  });

  it('a browser that drops off one instance resumes on the other and still gets its events', async () => {
    const sock = await openSocket(a.url, app.keys.test.publishable);
    const s = await sock.next('session');
    sock.ws.terminate();
    const back = await openSocket(b.url, app.keys.test.publishable, { session: String(s.session) });
    back.send({ type: 'resume', session: s.session, secret: s.secret });
    expect(await back.next('session')).toMatchObject({ session: s.session });
    const scan = await testScan(a.url, app.keys.test.secret, String(s.session));
    await back.next('scanned');
    await postJson(`${a.url}/v1/mp/confirm`, { scene: s.session, ticket: scan.body.ticket });
    expect((await back.next('success')).token).toBeTruthy();
    back.close();
  });

  it('the worker process is counted alive through the hash-tagged heartbeat', async () => {
    expect(await a.core.jobs.workersAlive()).toBeGreaterThanOrEqual(1);
    expect(worker.http).toBeNull();
  });
});
