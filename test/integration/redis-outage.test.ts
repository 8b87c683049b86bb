import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server/main';
import { createTestDatabase } from '../helpers/db';
import { testConfig } from '../helpers/server';
import { createTestApp, openSocket, TEST_ORIGIN } from '../helpers/login';
import { startPrivateRedis } from '../helpers/private-redis';

const redis = await startPrivateRedis({ persistence: false });
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase('outage');
  server = await startServer(testConfig(db.url, 'outage', { REDIS_URL: redis.url }));
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
  await redis.dispose();
});

it('with Redis gone, HTTP handlers answer 503 at once and sockets are refused with unavailable (4503)', async () => {
  const app = await createTestApp(server);
  const ok = await fetch(`${server.url}/v1/sessions?key=${app.keys.test.publishable}`, { method: 'POST', headers: { origin: TEST_ORIGIN } });
  expect(ok.status).toBe(201);

  await redis.down();
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
