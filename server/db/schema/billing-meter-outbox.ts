import { sql } from 'drizzle-orm';
import { date, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { tenants } from './tenants';

/**
 * The meter events Stripe must receive, one per new monthly active user, written in the
 * login's statement. Its id is the meter event's `identifier`, so a resend is never counted twice.
 */
export const billingMeterOutbox = pgTable('billing_meter_outbox', {
  id: text('id').primaryKey(),
  tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  month: date('month').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  /** A sender holds the row until then; after it (a sender that died) the row is free again. */
  claimedUntil: timestamp('claimed_until', { withTimezone: true }),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  sentAt: timestamp('sent_at', { withTimezone: true }),
}, (t) => [index('billing_meter_outbox_pending_idx').on(t.tenantId, t.createdAt).where(sql`sent_at is null`)]);
