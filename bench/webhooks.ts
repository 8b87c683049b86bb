/**
 * Webhook delivery figures: deliveries per second to a local receiver, and the time from
 * outbox.record (the login's transaction) to the receiver's 2xx, p50/p99. Prints figures,
 * asserts nothing. Needs the Postgres and Redis the tests use; runs on a throwaway database.
 *
 *   npx tsx bench/webhooks.ts [messages=2000] [concurrency=16]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tenants } from '../server/db/schema/index';
import { createAppsStore } from '../server/features/apps/store';
import { createOutbox } from '../server/features/webhooks/outbox';
import { createDeliveryQueue } from '../server/features/webhooks/queue';
import { newId } from '../server/lib/ids';
import { startServer } from '../server/main';
import { createTestDatabase } from '../test/helpers/db';
import { testRedisPrefix } from '../test/helpers/redis';
import { testConfig } from '../test/helpers/server';

const total = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 16);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const db = await createTestDatabase('benchwh');
const redis = testRedisPrefix('benchwh');
const server = await startServer(testConfig(db.url, redis.prefix), { webhooks: { concurrency: 64 } });

const recordedAt = new Map<string, number>();
const latencies: number[] = [];
let firstAt = 0;
let lastAt = 0;
let done: () => void;
const allDone = new Promise<void>((ok) => (done = ok));
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(204).end();
    const id = String(req.headers['webhook-id']);
    const t0 = recordedAt.get(id);
    if (t0 === undefined) return;
    recordedAt.delete(id);
    const now = performance.now();
    latencies.push(now - t0);
    lastAt = now;
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

  const outbox = createOutbox(createDeliveryQueue(server.core));
  let next = 0;
  firstAt = performance.now();
  // Each "login" is its own transaction followed by a dispatch, as the login flow does it.
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      const n = next++;
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
  }));
  const timeout = setTimeout(() => done(), 120_000);
  await allDone;
  clearTimeout(timeout);

  const sorted = [...latencies].sort((a, b) => a - b);
  const seconds = (lastAt - firstAt) / 1000;
  console.log(`webhooks: ${latencies.length}/${total} delivered to a local receiver (record concurrency ${concurrency}, worker concurrency 64)`);
  console.log(`  throughput  ${(latencies.length / seconds).toFixed(0)} deliveries/s`);
  console.log(`  record→2xx  p50 ${pct(sorted, 50).toFixed(1)} ms   p99 ${pct(sorted, 99).toFixed(1)} ms   max ${sorted[sorted.length - 1]!.toFixed(1)} ms`);
} finally {
  receiver.close();
  await server.close();
  await db.drop();
  await redis.cleanup();
}
