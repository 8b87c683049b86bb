import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookMessages } from '../../server/db/schema/index';
import { createRetention } from '../../server/features/webhooks/retention';
import { newId } from '../../server/lib/ids';
import type { RunningServer } from '../../server/main';
import { createTenantApp, createWebhookEnv, type WebhookEnv } from './webhooks-support';

/** Old webhook messages go, with their deliveries and attempts; recent and undelivered ones stay. */
let env: WebhookEnv;
let server: RunningServer;

beforeAll(async () => {
  env = await createWebhookEnv('whretain');
  server = await env.start();
});
afterAll(async () => {
  await env?.dispose();
});

const DAY = 86_400_000;

describe('webhook retention', () => {
  it('deletes messages past the retention with their deliveries and attempts, in batches, and keeps recent or pending ones', async () => {
    const t = await createTenantApp(server);
    const db = server.core.db;
    const endpointId = newId('ep');
    await db.insert(webhookEndpoints).values({ id: endpointId, tenantId: t.tenantId, appId: t.app.id, mode: 'test', url: 'https://hooks.example.com/x', secretEnc: 'unused' });
    const now = Date.now();
    const message = async (ageDays: number, delivery: 'succeeded' | 'failed' | 'pending') => {
      const id = newId('msg');
      const at = new Date(now - ageDays * DAY);
      await db.insert(webhookMessages).values({ id, tenantId: t.tenantId, appId: t.app.id, mode: 'test', type: 'login.succeeded', payload: {}, createdAt: at, fannedOutAt: at });
      const deliveryId = newId('dlv');
      await db.insert(webhookDeliveries).values({ id: deliveryId, tenantId: t.tenantId, messageId: id, endpointId, status: delivery, createdAt: at, nextAttemptAt: delivery === 'pending' ? at : null });
      await db.insert(webhookAttempts).values({ id: newId('att'), deliveryId, attempt: 1, statusCode: 200, durationMs: 5, createdAt: at });
      return { id, deliveryId };
    };
    const old = [await message(40, 'succeeded'), await message(31, 'failed'), await message(35, 'succeeded')];
    const stillPending = await message(45, 'pending');
    const recent = await message(29, 'succeeded');

    // A batch of 2 for 3 deletable messages: the pass must keep going past a full batch.
    const retention = createRetention(server.core, { retentionMs: 30 * DAY, intervalMs: 3_600_000, batch: 2 });
    expect(await retention.purge(new Date(now))).toBe(3);

    const left = (await db.select({ id: webhookMessages.id }).from(webhookMessages).where(eq(webhookMessages.appId, t.app.id))).map((r) => r.id).sort();
    expect(left).toEqual([stillPending.id, recent.id].sort());
    const oldDeliveries = old.map((m) => m.deliveryId);
    expect(await db.select().from(webhookDeliveries).where(inArray(webhookDeliveries.id, oldDeliveries))).toEqual([]);
    expect(await db.select().from(webhookAttempts).where(inArray(webhookAttempts.deliveryId, oldDeliveries))).toEqual([]);
    expect(await db.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, recent.deliveryId))).toHaveLength(1);
    // Nothing left to do: a second pass deletes nothing.
    expect(await retention.purge(new Date(now))).toBe(0);
  });
});
