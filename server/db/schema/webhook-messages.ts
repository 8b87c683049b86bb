import { jsonb, pgTable, text, timestamp, index } from 'drizzle-orm/pg-core';
import { apps } from './apps';
import { tenants } from './tenants';

/** The outbox: written in the same transaction as the event it reports. Its id is the `webhook-id`. */
export const webhookMessages = pgTable('webhook_messages', {
  id: text('id').primaryKey(),
  tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  appId: text('app_id').notNull().references(() => apps.id, { onDelete: 'cascade' }),
  mode: text('mode', { enum: ['test', 'live'] }).notNull(),
  type: text('type').notNull(),
  payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  /** Set once deliveries rows exist for every matching endpoint (fan-out done). */
  fannedOutAt: timestamp('fanned_out_at', { withTimezone: true }),
}, (t) => [
  index('webhook_messages_app_idx').on(t.tenantId, t.appId, t.createdAt),
  // Retention deletes by age across all tenants (features/webhooks/retention.ts).
  index('webhook_messages_created_idx').on(t.createdAt),
]);
