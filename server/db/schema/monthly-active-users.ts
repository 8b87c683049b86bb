import { date, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { tenants } from './tenants';

/**
 * One row per end user with a live login in a calendar month (UTC): what plans limit and
 * Stripe bills. Inserted by the login's own statement (features/billing/metering.ts).
 */
export const monthlyActiveUsers = pgTable('monthly_active_users', {
  tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  /** The month's first day. */
  month: date('month').notNull(),
  userId: text('user_id').notNull(),
  appId: text('app_id').notNull(),
  /** The day of the user's first live login this month (the console's chart by day). */
  day: date('day').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.tenantId, t.month, t.userId] })]);
