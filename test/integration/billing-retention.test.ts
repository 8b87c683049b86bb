/** Meter outbox rows of months that can no longer be billed, and old Stripe event ids, go; the rest stays. */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingMeterOutbox, stripeEvents } from '../../server/db/schema/index';
import { createAppsStore } from '../../server/features/apps/store';
import { createBillingRetention } from '../../server/features/billing/retention';
import type { RunningServer } from '../../server/main';
import { createTestEnv, type TestEnv } from '../helpers/server';

let env: TestEnv;
let server: RunningServer;

beforeAll(async () => {
  env = await createTestEnv('billretain');
  // API only: no worker, so no retention pass of the server's own races the one under test.
  server = await env.start({ ROLE: 'api' });
});
afterAll(async () => {
  await env?.dispose();
});

describe('billing retention', () => {
  it('deletes outbox rows older than last month, sent or not, and Stripe event ids past 30 days, in batches', async () => {
    const db = server.core.db;
    const tenantId = await createAppsStore(server.core).ensureDefaultTenant('Retention org');
    const now = new Date('2026-11-15T12:00:00Z');
    const row = (id: string, month: string, sent: boolean) => ({ id, tenantId, month, createdAt: new Date(`${month}T00:00:00Z`), sentAt: sent ? new Date(`${month}T01:00:00Z`) : null });
    await db.insert(billingMeterOutbox).values([
      row('mau_r_sept_sent', '2026-09-01', true),
      row('mau_r_sept_unsent', '2026-09-01', false),
      row('mau_r_aug_sent', '2026-08-01', true),
      row('mau_r_oct_sent', '2026-10-01', true),
      row('mau_r_oct_unsent', '2026-10-01', false),
      row('mau_r_nov_unsent', '2026-11-01', false),
    ]);
    const DAY = 86_400_000;
    await db.insert(stripeEvents).values([
      { id: 'evt_r_old', type: 'invoice.paid', receivedAt: new Date(now.getTime() - 31 * DAY) },
      { id: 'evt_r_older', type: 'invoice.paid', receivedAt: new Date(now.getTime() - 90 * DAY) },
      { id: 'evt_r_recent', type: 'invoice.paid', receivedAt: new Date(now.getTime() - 29 * DAY) },
    ]);

    // A batch of 1 makes the pass loop until a batch comes back short.
    const n = await createBillingRetention(server.core, { intervalMs: 3_600_000, batch: 1 }).purge(now);
    expect(n).toEqual({ meterRows: 3, stripeEvents: 2 });
    const left = await db.select({ id: billingMeterOutbox.id }).from(billingMeterOutbox).where(eq(billingMeterOutbox.tenantId, tenantId));
    expect(left.map((r) => r.id).sort()).toEqual(['mau_r_nov_unsent', 'mau_r_oct_sent', 'mau_r_oct_unsent']);
    expect((await db.select({ id: stripeEvents.id }).from(stripeEvents)).map((r) => r.id).filter((id) => id.startsWith('evt_r_'))).toEqual(['evt_r_recent']);
  });
});
