import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

/**
 * A redis-server of a fault test's own, on a free port (never the shared one): it can be
 * killed, restarted (same port and data directory) and have its clients' connections killed.
 * `persistence`: AOF with fsync on every write, so a restart keeps everything; or nothing kept.
 */
export async function startPrivateRedis(opts: { persistence: boolean }) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'wsl-fault-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--maxmemory-policy', 'noeviction',
    ...(opts.persistence ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'])];
  let child: ChildProcess;
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
  admin.on('error', () => {});

  async function up() {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {});
      const ok = await probe.connect().then(() => probe.ping()).then(() => true, () => false);
      probe.disconnect();
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function down() {
    // Killed by a signal, a process has a signalCode and no exitCode: both mean it is gone.
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  await up();
  return {
    url,
    /** Kills every command connection of the clients (not pub/sub ones, not this admin's). */
    async killClients() {
      if (admin.status !== 'ready') await admin.connect().catch(() => {});
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal').catch(() => 0);
    },
    /** Kills every pub/sub connection: each instance's event channel goes unheard until it resubscribes. */
    async killSubscribers() {
      if (admin.status !== 'ready') await admin.connect().catch(() => {});
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub').catch(() => 0);
    },
    down,
    up,
    async dispose() {
      admin.disconnect();
      await down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
