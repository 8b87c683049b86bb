import { createConnection, createServer as createTcpServer, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookAttempts, webhookDeliveries } from '../../server/db/schema/index';
import { postWebhook } from '../../server/features/webhooks/http-post';
import type { RunningServer } from '../../server/main';
import { api, createTenantApp, createWebhookEnv, loginSucceeded, outboxOf, receiverPool, waitFor, type WebhookEnv } from './webhooks-support';

const SLOW_ENDPOINTS = 8;
/** The defaults: 8 attempts per endpoint, 128 per worker process. */
const PER_ENDPOINT = 8;
const LOGINS_PER_SLOW_TENANT = 20;
/** Longer than the test: no attempt to the hanging port can finish while it runs. */
const RESPONSE_TIMEOUT_MS = 120_000;

let env: WebhookEnv;
let server: RunningServer;
const receivers = receiverPool();
const receiver = receivers.receiver;

beforeAll(async () => {
  env = await createWebhookEnv('whfair');
  server = await env.start({
    scheduleMs: [50, 80, 100],
    timeoutMs: RESPONSE_TIMEOUT_MS,
    leaseMs: RESPONSE_TIMEOUT_MS + 10_000,
    sweepIntervalMs: 200,
  });
});

afterAll(async () => {
  // Hung requests first, so the worker's in-flight attempts end before the server drains it.
  await receivers.closeAll();
  await env?.dispose();
});

async function record(t: { tenantId: string; app: { id: string } }, n: number): Promise<string[]> {
  const outbox = outboxOf(server);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(await server.core.db.transaction((tx) => outbox.record(tx, {
      tenantId: t.tenantId, appId: t.app.id, mode: 'test', type: 'login.succeeded', data: loginSucceeded(`usr_f${i}`, `sess_f${i}`),
    })));
  }
  await outbox.dispatch(ids);
  return ids;
}

describe('fair delivery', () => {
  it('delivers another tenant promptly while 8 endpoints hang, each holding at most its share of the worker', async () => {
    // A port that accepts, reads the request and never answers.
    const hanging = await receiver();
    hanging.behaviour = () => 'hang';
    const slowTenants = [await createTenantApp(server, 'Slow A'), await createTenantApp(server, 'Slow B')];
    const slowEndpoints: string[] = [];
    for (let i = 0; i < SLOW_ENDPOINTS; i++) {
      const t = slowTenants[i % 2]!;
      const ep = await api(server, t.test)('POST', '/v1/webhook_endpoints', { url: `${hanging.url}/${i}` });
      expect(ep.status).toBe(201);
      slowEndpoints.push(ep.body.id);
    }
    // 20 logins each to 4 endpoints each: 160 deliveries, more than the worker's 128 slots.
    for (const t of slowTenants) await record(t, LOGINS_PER_SLOW_TENANT);
    await waitFor('every slow endpoint to take its share', () => hanging.received.length >= SLOW_ENDPOINTS * PER_ENDPOINT);

    const healthy = await receiver();
    const h = await createTenantApp(server, 'Healthy');
    expect((await api(server, h.test)('POST', '/v1/webhook_endpoints', { url: healthy.url })).status).toBe(201);
    const [healthyMessage] = await record(h, 1);
    await waitFor('the healthy delivery', async () => {
      const [d] = await server.core.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.messageId, healthyMessage!));
      return d?.status === 'succeeded';
    }, 25_000);

    // Delivered while every slow attempt was still waiting for its answer: none has ended
    // (no attempt recorded), and each hanging endpoint never had more than its share in flight.
    const slow = await server.core.db.select().from(webhookDeliveries).where(inArray(webhookDeliveries.endpointId, slowEndpoints));
    expect(slow).toHaveLength(SLOW_ENDPOINTS * LOGINS_PER_SLOW_TENANT);
    const slowAttempts = await server.core.db.select().from(webhookAttempts).where(inArray(webhookAttempts.deliveryId, slow.map((d) => d.id)));
    expect(slowAttempts).toEqual([]);
    expect(hanging.received).toHaveLength(SLOW_ENDPOINTS * PER_ENDPOINT);
    const perEndpoint = new Map<string, number>();
    for (const r of hanging.received) perEndpoint.set(r.path, (perEndpoint.get(r.path) ?? 0) + 1);
    expect([...perEndpoint.values()]).toEqual(Array(SLOW_ENDPOINTS).fill(PER_ENDPOINT));
    // The rest wait for their endpoint, holding no worker slot and spending none of their retries.
    const held = await waitFor('the rest to be held', async () => {
      const rows = await server.core.db.select().from(webhookDeliveries).where(inArray(webhookDeliveries.endpointId, slowEndpoints));
      return rows.filter((d) => d.held).length === rows.length - SLOW_ENDPOINTS * PER_ENDPOINT ? rows : null;
    });
    expect(held.every((d) => d.status === 'pending' && d.attempts === 0)).toBe(true);
    expect(hanging.received).toHaveLength(SLOW_ENDPOINTS * PER_ENDPOINT);
    expect(healthy.received).toHaveLength(1);
  });
});

/**
 * A listening socket nobody accepts from: a worker thread listens with a backlog of 1 (0 would mean the default) and
 * then blocks its own event loop, so once the kernel's accept queue is full, new connections
 * stay in SYN_SENT (the kernel drops their SYNs) as they would towards a blackholed host.
 */
async function unacceptingPort(): Promise<{ port: number; close(): Promise<void> }> {
  const wake = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(`
    const { createServer } = require('node:net');
    const { parentPort, workerData } = require('node:worker_threads');
    const server = createServer();
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      parentPort.postMessage(server.address().port);
      Atomics.wait(workerData, 0, 0, 60000);
      server.close();
    });
  `, { eval: true, workerData: wake });
  const port = await new Promise<number>((ok) => worker.once('message', ok));
  return {
    port,
    async close() {
      Atomics.store(wake, 0, 1);
      Atomics.notify(wake, 0);
      await worker.terminate();
    },
  };
}

describe('connect timeout', () => {
  it('gives up connecting after the connect timeout, not the response timeout', async () => {
    const target = await unacceptingPort();
    const fillers: Socket[] = [];
    try {
      // Fill the accept queue until a connection no longer completes.
      for (;;) {
        const s = createConnection(target.port, '127.0.0.1');
        fillers.push(s);
        const connected = await new Promise<boolean>((ok) => {
          s.once('connect', () => ok(true));
          s.once('error', () => ok(false));
          setTimeout(() => ok(false), 500);
        });
        if (!connected) break;
        expect(fillers.length).toBeLessThan(20);
      }
      const policy = { mode: 'test' as const, allowPrivate: true, testLoopback: true };
      const r = await postWebhook(`http://127.0.0.1:${target.port}/hook`, {}, '{}', { timeoutMs: 120_000, connectTimeoutMs: 300, policy });
      expect(r.statusCode).toBeUndefined();
      expect(r.error).toBe('could not connect within 300 ms');

      // A receiver that accepts but is slow to answer is judged by the response timeout only.
      const slow = createTcpServer((sock) => sock.on('data', () => setTimeout(() => sock.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'), 600)));
      await new Promise<void>((ok) => slow.listen(0, '127.0.0.1', ok));
      const port = (slow.address() as { port: number }).port;
      const answered = await postWebhook(`http://127.0.0.1:${port}/hook`, {}, '{}', { timeoutMs: 120_000, connectTimeoutMs: 300, policy });
      slow.close();
      expect(answered).toMatchObject({ statusCode: 200, body: 'ok' });
    } finally {
      for (const s of fillers) s.destroy();
      await target.close();
    }
  });
});
