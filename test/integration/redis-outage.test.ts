import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server/main';
import { createTestDatabase } from '../helpers/db';
import { testConfig } from '../helpers/server';
import { createTestApp, openSocket, TEST_ORIGIN } from '../helpers/login';

const port = await new Promise<number>((ok) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => ok(p));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'wsl-redis-'));
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: RunningServer;

beforeAll(async () => {
  const probe = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  while (!(await probe.connect().then(() => probe.ping()).then(() => true, () => false))) {
    probe.disconnect();
    await new Promise((r) => setTimeout(r, 50));
  }
  probe.disconnect();
  db = await createTestDatabase('outage');
  server = await startServer(testConfig(db.url, 'outage', { REDIS_URL: `redis://127.0.0.1:${port}` }));
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
  if (redis.exitCode === null) redis.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

it('with Redis gone, HTTP handlers answer 503 at once and sockets are refused with unavailable (4503)', async () => {
  const app = await createTestApp(server);
  const ok = await fetch(`${server.url}/v1/sessions?key=${app.keys.test.publishable}`, { method: 'POST', headers: { origin: TEST_ORIGIN } });
  expect(ok.status).toBe(201);

  redis.kill('SIGKILL');
  await new Promise((r) => redis.once('exit', r));
  // The server's client notices the closed connection on its own; wait for it rather than a fixed time.
  while (server.core.redis.client.status === 'ready') await new Promise((r) => setTimeout(r, 20));

  const refused = await fetch(`${server.url}/v1/sessions?key=${app.keys.test.publishable}`, { method: 'POST', headers: { origin: TEST_ORIGIN } });
  expect(refused.status).toBe(503);
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('unavailable');
  const sock = await openSocket(server.url, app.keys.test.publishable);
  expect(await sock.next('error')).toMatchObject({ code: 'unavailable' });
  expect(await sock.closed).toBe(4503);
  const ready = await fetch(`${server.url}/readyz`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toEqual({ postgres: 'ok', redis: 'down' });
});
