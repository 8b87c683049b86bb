import { date, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { tenants } from './tenants';

/** `billing.quota_warning` webhooks already sent: once per threshold (80, 100) per tenant per month. */
export const quotaWarnings = pgTable('quota_warnings', {
  tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  month: date('month').notNull(),
  threshold: integer('threshold').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.tenantId, t.month, t.threshold] })]);
