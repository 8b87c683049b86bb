import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './private-redis';

export interface TestCluster {
  /** REDIS_CLUSTER_NODES for the product: every node, host:port,… */
  nodes: string;
  /** The ports of the nodes that are masters now (asked of the cluster, so right after a failover too). */
  masters(): Promise<number[]>;
  /** How many keys each master holds whose name contains `part`, by port. */
  keysByMaster(part: string): Promise<Map<number, number>>;
  /** The shard channels with a subscriber, over every master. */
  shardChannels(pattern: string): Promise<string[]>;
  /** Calls per Redis command, summed over the masters (INFO commandstats): the bench's commands per login. */
  commandStats(): Promise<Map<string, number>>;
  /** kill -9 one node; resolves once it is gone. */
  kill(port: number): Promise<void>;
  /** Resolves once every slot has a live master again (cluster_state:ok on every live node). */
  healthy(): Promise<void>;
  dispose(): Promise<void>;
}

async function answers(port: number): Promise<boolean> {
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  const ok = await probe.connect().then(() => probe.ping()).then(() => true, () => false);
  probe.disconnect();
  return ok;
}

/** A command to one node; null when it does not answer. */
async function ask(port: number, ...args: string[]): Promise<unknown> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return await r.call(args[0]!, ...args.slice(1));
  } catch {
    return null;
  } finally {
    r.disconnect();
  }
}

/**
 * A Redis Cluster of a test file's own: 3 masters and 3 replicas on free loopback ports, with a
 * node timeout of 2 s so a killed master's replica takes over within a few seconds. Nothing is
 * persisted; dispose kills every node and removes its directory.
 */
export async function startRedisCluster(): Promise<TestCluster> {
  const ports: number[] = [];
  for (let i = 0; i < 6; i++) ports.push(await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'wsl-cluster-'));
  const children = new Map<number, ChildProcess>();
  for (const port of ports) {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
      '--cluster-node-timeout', '2000', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir,
      '--appendonly', 'no', '--save', '', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
    children.set(port, child);
  }
  const alive = () => ports.filter((p) => children.get(p)!.exitCode === null && children.get(p)!.signalCode === null);

  async function dispose() {
    await Promise.all([...children.values()].map(async (c) => {
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    }));
    rmSync(dir, { recursive: true, force: true });
  }

  async function healthy() {
    for (let i = 0; i < 300; i++) {
      const infos = await Promise.all(alive().map((p) => ask(p, 'CLUSTER', 'INFO')));
      if (infos.every((info) => typeof info === 'string' && info.includes('cluster_state:ok'))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the test cluster did not become healthy');
  }

  async function masters(): Promise<number[]> {
    for (const p of alive()) {
      const nodes = await ask(p, 'CLUSTER', 'NODES');
      if (typeof nodes !== 'string') continue;
      return nodes.split('\n').filter((l) => {
        const flags = l.split(' ')[2]?.split(',') ?? [];
        return flags.includes('master') && !flags.includes('fail') && !flags.includes('fail?');
      }).map((l) => Number(l.split(' ')[1]!.split('@')[0]!.split(':')[1]));
    }
    return [];
  }

  try {
    for (const port of ports) {
      for (let i = 0; !(await answers(port)); i++) {
        if (i > 100) throw new Error(`redis-server on ${port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], { encoding: 'utf8' });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    await healthy();
    // Replicas take a moment to sync with their masters; a failover test needs them in sync.
    for (let i = 0; i < 300; i++) {
      const infos = await Promise.all(ports.map((p) => ask(p, 'INFO', 'replication')));
      if (infos.filter((s) => typeof s === 'string' && s.includes('master_link_status:up')).length === 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await dispose();
    throw err;
  }

  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(','),
    masters,
    async keysByMaster(part) {
      const out = new Map<number, number>();
      for (const port of await masters()) {
        let n = 0;
        let cursor = '0';
        do {
          const [next, keys] = (await ask(port, 'SCAN', cursor, 'MATCH', `*${part}*`, 'COUNT', '1000')) as [string, string[]];
          cursor = next;
          n += keys.length;
        } while (cursor !== '0');
        out.set(port, n);
      }
      return out;
    },
    async shardChannels(pattern) {
      const all = await Promise.all((await masters()).map((p) => ask(p, 'PUBSUB', 'SHARDCHANNELS', pattern)));
      return all.flatMap((c) => (Array.isArray(c) ? (c as string[]) : []));
    },
    async commandStats() {
      const out = new Map<string, number>();
      for (const port of await masters()) {
        const info = await ask(port, 'INFO', 'commandstats');
        if (typeof info !== 'string') continue;
        for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
      }
      return out;
    },
    async kill(port) {
      const c = children.get(port)!;
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    },
    healthy,
    dispose,
  };
}
