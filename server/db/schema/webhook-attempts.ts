import { integer, pgTable, text, timestamp, index } from 'drizzle-orm/pg-core';
import { webhookDeliveries } from './webhook-deliveries';

export const webhookAttempts = pgTable('webhook_attempts', {
  id: text('id').primaryKey(),
  deliveryId: text('delivery_id').notNull().references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
  attempt: integer('attempt').notNull(),
  statusCode: integer('status_code'),
  durationMs: integer('duration_ms').notNull(),
  /** The first bytes of the response body, for the console's delivery log. */
  responseBody: text('response_body'),
  error: text('error'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('webhook_attempts_delivery_idx').on(t.deliveryId)]);
