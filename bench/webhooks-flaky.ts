/**
 * A receiver mid-deploy: it answers 503 to the first attempt of every message and 204 to its
 * retry. With the default schedule (retry ~5 s later, ±20 %) and the default breaker, prints
 * the time from outbox.record to the 2xx for each of N logins (p50 / max) and how often the
 * breaker opened. Issue 22 measured 277 s for 20 logins before the breaker's rework.
 * Prints figures, asserts nothing; runs on a throwaway database.
 *
 *   npx tsx bench/webhooks-flaky.ts [logins=20]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { tenants, webhookEndpoints } from '../server/db/schema/index';
import { createAppsStore } from '../server/features/apps/store';
import { createOutbox } from '../server/features/webhooks/outbox';
import { createDeliveryQueue } from '../server/features/webhooks/queue';
import { newId } from '../server/lib/ids';
import { startServer } from '../server/main';
import { createTestDatabase } from '../test/helpers/db';
import { testRedisPrefix } from '../test/helpers/redis';
import { testConfig } from '../test/helpers/server';

const total = Number(process.argv[2] ?? 20);

const db = await createTestDatabase('benchwhflaky');
const redis = testRedisPrefix('benchwhflaky');
const server = await startServer(testConfig(db.url, redis.prefix));

const recordedAt = new Map<string, number>();
const seen = new Set<string>();
const latencies: number[] = [];
let done: () => void;
const allDone = new Promise<void>((ok) => (done = ok));
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const id = String(req.headers['webhook-id']);
    if (!seen.has(id)) {
      seen.add(id);
      res.writeHead(503).end();
      return;
    }
    res.writeHead(204).end();
    const t0 = recordedAt.get(id);
    if (t0 === undefined) return;
    recordedAt.delete(id);
    latencies.push(performance.now() - t0);
    if (latencies.length === total) done();
  });
});
await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

try {
  const tenantId = newId('ten');
  await server.core.db.insert(tenants).values({ id: tenantId, name: 'Bench' });
  const { app, keys } = await createAppsStore(server.core).createApp({ tenantId, name: 'Bench', allowedOrigins: [] });
  const res = await fetch(`${server.url}/v1/webhook_endpoints`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys.test.secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url }),
  });
  if (res.status !== 201) throw new Error(`endpoint: ${res.status} ${await res.text()}`);
  const endpointId = ((await res.json()) as { id: string }).id;

  // Sample the breaker while the logins wait for their retries.
  let opened = 0;
  const sampler = setInterval(() => {
    void server.core.db.select({ circuit: webhookEndpoints.circuit }).from(webhookEndpoints).where(eq(webhookEndpoints.id, endpointId))
      .then(([row]) => { if (row && row.circuit !== 'closed') opened++; }, () => undefined);
  }, 250);

  const outbox = createOutbox(createDeliveryQueue(server.core));
  for (let n = 0; n < total; n++) {
    const t0 = performance.now();
    const id = await server.core.db.transaction((tx) => outbox.record(tx, {
      tenantId, appId: app.id, mode: 'test', type: 'login.succeeded',
      data: {
        userId: `usr_${n}`, openid: `o_${n}`, origin: 'https://shop.example.com', browser: 'Chrome', os: 'macOS', ip: '203.0.113.7',
        sessionId: `sess_${n}`, time: new Date().toISOString(),
      },
    }));
    recordedAt.set(id, t0);
    await outbox.dispatch([id]);
  }
  const timeout = setTimeout(() => done(), 600_000);
  await allDone;
  clearTimeout(timeout);
  clearInterval(sampler);

  const sorted = [...latencies].sort((a, b) => a - b);
  const p50 = sorted[Math.floor(sorted.length / 2)]!;
  console.log(`webhooks-flaky: ${latencies.length}/${total} logins delivered (503 to each first attempt, 204 to the retry; default schedule and breaker)`);
  console.log(`  record→2xx  p50 ${(p50 / 1000).toFixed(1)} s   max ${(sorted[sorted.length - 1]! / 1000).toFixed(1)} s`);
  console.log(`  breaker seen not closed in ${opened} of its 250 ms samples`);
} finally {
  receiver.close();
  await server.close();
  await db.drop();
  await redis.cleanup();
}
