import { sql, type SQL } from 'drizzle-orm';
import type { Core } from '../../core';
import { rowsOf } from '../../db/client';
import { createPeriodic } from '../../lib/periodic';

/** Stripe retries an event for three days; an id kept ten times as long guards every retry. */
const STRIPE_EVENT_IDS_KEPT_MS = 30 * 86_400_000;

/**
 * Billing's bookkeeping that nothing else removes: meter outbox rows of months that can no
 * longer be billed (the sender only sends this month's and last month's, so older rows are
 * either in Stripe already or never will be), and the ids of Stripe events applied long ago.
 * Monthly active users stay: they are the usage history the console shows. Batched, with
 * `skip locked`, so every worker process may run it.
 */
export function createBillingRetention(core: Core, opts: { intervalMs: number; batch: number }) {
  async function drain(statement: () => SQL): Promise<number> {
    let total = 0;
    for (;;) {
      const n = rowsOf(await core.db.execute(statement())).length;
      total += n;
      if (n < opts.batch) return total;
    }
  }

  /** One pass; answers how many outbox rows and event ids went. */
  async function purge(now = new Date()): Promise<{ meterRows: number; stripeEvents: number }> {
    const at = now.toISOString();
    const meterRows = await drain(() => sql`
      delete from billing_meter_outbox where id in (
        select id from billing_meter_outbox
        where month < (date_trunc('month', ${at}::timestamptz at time zone 'UTC') - interval '1 month')::date
        limit ${opts.batch}
        for update skip locked)
      returning id`);
    const cutoff = new Date(now.getTime() - STRIPE_EVENT_IDS_KEPT_MS).toISOString();
    const stripeEvents = await drain(() => sql`
      delete from stripe_events where id in (
        select id from stripe_events where received_at < ${cutoff}::timestamptz
        limit ${opts.batch}
        for update skip locked)
      returning id`);
    return { meterRows, stripeEvents };
  }

  const periodic = createPeriodic(
    async () => {
      const n = await purge();
      if (n.meterRows || n.stripeEvents) core.logger.info(n, 'deleted billing rows past their use');
    },
    opts.intervalMs,
    (err) => core.logger.warn({ err }, 'billing retention pass failed'),
  );
  return { purge, ...periodic };
}
