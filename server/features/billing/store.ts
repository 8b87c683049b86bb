import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client';
import { rowsOf } from '../../db/client';
import { apps, billingMeterOutbox, monthlyActiveUsers, quotaWarnings, stripeEvents, tenants } from '../../db/schema/index';
import type { BillingStatus, PlanName, TenantPlanRow } from './plans';

export interface TenantBillingRow extends TenantPlanRow {
  id: string;
  name: string;
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
}

export interface PendingMeterEvent {
  id: string;
  tenantId: string;
  customerId: string;
  /** When the user became active: the event's timestamp, so it counts in the right period. */
  createdAt: Date;
}

const billingColumns = {
  id: tenants.id,
  name: tenants.name,
  plan: tenants.plan,
  mauLimit: tenants.mauLimit,
  billingStatus: tenants.billingStatus,
  pastDueSince: tenants.pastDueSince,
  stripeCustomerId: tenants.stripeCustomerId,
  stripeSubscriptionId: tenants.stripeSubscriptionId,
};

/** Postgres rows of plans, monthly active users, the meter outbox and processed Stripe events. */
export function createBillingStore(db: Db) {
  return {
    async tenant(tenantId: string, tx: DbOrTx = db): Promise<TenantBillingRow | null> {
      const [row] = await tx.select(billingColumns).from(tenants).where(eq(tenants.id, tenantId)).limit(1);
      return row ?? null;
    },

    async tenantByCustomer(customerId: string, tx: DbOrTx = db): Promise<TenantBillingRow | null> {
      const [row] = await tx.select(billingColumns).from(tenants).where(eq(tenants.stripeCustomerId, customerId)).limit(1);
      return row ?? null;
    },

    /** The operator's hand: the plan (and for custom its limit), leaving the Stripe state as it is. */
    async setPlan(tenantId: string, plan: PlanName, mauLimit: number | null): Promise<boolean> {
      const rows = await db.update(tenants).set({ plan, mauLimit: plan === 'custom' ? mauLimit : null }).where(eq(tenants.id, tenantId)).returning({ id: tenants.id });
      return rows.length > 0;
    },

    /** Attaches a customer to a tenant that has none; answers the customer the tenant ends up with. */
    async attachCustomer(tenantId: string, customerId: string, tx: DbOrTx = db): Promise<string | null> {
      await tx.update(tenants).set({ stripeCustomerId: customerId }).where(and(eq(tenants.id, tenantId), isNull(tenants.stripeCustomerId)));
      const [row] = await tx.select({ c: tenants.stripeCustomerId }).from(tenants).where(eq(tenants.id, tenantId));
      return row?.c ?? null;
    },

    async applySubscription(tenantId: string, s: { id: string; plan: PlanName; status: BillingStatus }, tx: DbOrTx) {
      await tx.update(tenants).set({
        plan: s.plan,
        stripeSubscriptionId: s.id,
        billingStatus: s.status,
        // The grace period counts from the first time we saw it past due, not from each event.
        pastDueSince: s.status === 'past_due' ? sql`coalesce(${tenants.pastDueSince}, now())` : null,
      }).where(eq(tenants.id, tenantId));
    },

    /** True the first time an event id is seen (in the caller's transaction: a rollback forgets it). */
    async markEventProcessed(id: string, type: string, tx: DbOrTx): Promise<boolean> {
      const rows = await tx.insert(stripeEvents).values({ id, type }).onConflictDoNothing().returning({ id: stripeEvents.id });
      return rows.length > 0;
    },

    async activeUsers(tenantId: string, month: string): Promise<number> {
      const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(monthlyActiveUsers)
        .where(and(eq(monthlyActiveUsers.tenantId, tenantId), eq(monthlyActiveUsers.month, month)));
      return row?.n ?? 0;
    },

    /** New active users per day of the month (the console's chart). */
    async activeUsersByDay(tenantId: string, month: string): Promise<Array<{ day: string; users: number }>> {
      return db.select({ day: monthlyActiveUsers.day, users: sql<number>`count(*)::int` }).from(monthlyActiveUsers)
        .where(and(eq(monthlyActiveUsers.tenantId, tenantId), eq(monthlyActiveUsers.month, month)))
        .groupBy(monthlyActiveUsers.day).orderBy(monthlyActiveUsers.day);
    },

    /** Whether the WeChat user behind `openid` has already logged in to this app live this month. */
    async isActive(tenantId: string, appId: string, openid: string, month: string): Promise<boolean> {
      const rows = rowsOf(await db.execute(sql`
        select 1 from end_users u
        join monthly_active_users m on m.tenant_id = ${tenantId} and m.month = ${month}::date and m.user_id = u.id
        where u.app_id = ${appId} and u.mode = 'live' and u.openid = ${openid}
        limit 1`));
      return rows.length > 0;
    },

    /** True for the first caller per tenant, month and threshold. */
    async claimWarning(tenantId: string, month: string, threshold: number): Promise<boolean> {
      const rows = await db.insert(quotaWarnings).values({ tenantId, month, threshold }).onConflictDoNothing().returning({ t: quotaWarnings.threshold });
      return rows.length > 0;
    },

    async appIds(tenantId: string): Promise<string[]> {
      const rows = await db.select({ id: apps.id }).from(apps).where(eq(apps.tenantId, tenantId));
      return rows.map((r) => r.id);
    },

    /**
     * Claims up to `limit` unsent meter events of tenants that have a Stripe customer, for
     * `holdMs` (a sender that dies lets them go again). Rows of this month and the last one
     * only: a tenant that never had a customer is not billed for months long gone.
     */
    async claimMeterEvents(limit: number, holdMs: number): Promise<PendingMeterEvent[]> {
      const rows = rowsOf(await db.execute(sql`
        with due as (
          select o.id from billing_meter_outbox o
          join tenants t on t.id = o.tenant_id and t.stripe_customer_id is not null
          where o.sent_at is null and (o.claimed_until is null or o.claimed_until < now())
            and o.month >= (date_trunc('month', now() at time zone 'UTC') - interval '1 month')::date
          order by o.created_at
          limit ${limit}
          for update of o skip locked
        )
        update billing_meter_outbox o set claimed_until = now() + ${holdMs} * interval '1 millisecond', attempts = o.attempts + 1
        from due, tenants t
        where o.id = due.id and t.id = o.tenant_id
        returning o.id, o.tenant_id as "tenantId", t.stripe_customer_id as "customerId", o.created_at as "createdAt"`));
      return (rows as Array<Omit<PendingMeterEvent, 'createdAt'> & { createdAt: Date | string }>).map((r) => ({ ...r, createdAt: new Date(r.createdAt) }));
    },

    /**
     * A tenant's meter events not yet in Stripe (in the sender's window): how many, since when,
     * and the last error Stripe gave for one. For `billing:status`, where an operator looks first.
     */
    async meterBacklog(tenantId: string): Promise<{ pending: number; oldestPending: string | null; lastError: string | null }> {
      const [row] = rowsOf(await db.execute(sql`
        select count(*)::int as pending, min(created_at) as oldest,
          (array_agg(last_error order by created_at desc) filter (where last_error is not null))[1] as "lastError"
        from billing_meter_outbox
        where tenant_id = ${tenantId} and sent_at is null
          and month >= (date_trunc('month', now() at time zone 'UTC') - interval '1 month')::date`)) as Array<{ pending: number; oldest: Date | string | null; lastError: string | null }>;
      return { pending: row?.pending ?? 0, oldestPending: row?.oldest ? new Date(row.oldest).toISOString() : null, lastError: row?.lastError ?? null };
    },

    async meterEventsSent(ids: string[]): Promise<void> {
      if (!ids.length) return;
      await db.update(billingMeterOutbox).set({ sentAt: sql`now()`, claimedUntil: null, lastError: null }).where(inArray(billingMeterOutbox.id, ids));
    },

    /**
     * Not sent. `retry: 'now'` frees the rows for the next pass (an outage); `'later'` keeps
     * the claim, so a request Stripe refused is tried again only when the hold runs out.
     */
    async meterEventsFailed(ids: string[], error: string, retry: 'now' | 'later'): Promise<void> {
      if (!ids.length) return;
      await db.update(billingMeterOutbox).set({ lastError: error.slice(0, 500), ...(retry === 'now' ? { claimedUntil: null } : {}) }).where(inArray(billingMeterOutbox.id, ids));
    },
  };
}

export type BillingStore = ReturnType<typeof createBillingStore>;
