import { sql } from 'drizzle-orm';
import { boolean, integer, pgTable, text, timestamp, index, uniqueIndex } from 'drizzle-orm/pg-core';
import { webhookEndpoints } from './webhook-endpoints';
import { webhookMessages } from './webhook-messages';

/** One message to one endpoint: the unit the sweeper re-enqueues if Redis lost its job. */
export const webhookDeliveries = pgTable('webhook_deliveries', {
  id: text('id').primaryKey(),
  tenantId: text('tenant_id').notNull(),
  messageId: text('message_id').notNull().references(() => webhookMessages.id, { onDelete: 'cascade' }),
  endpointId: text('endpoint_id').notNull().references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
  status: text('status', { enum: ['pending', 'succeeded', 'failed'] }).notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
  lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
  /**
   * Waiting for its endpoint rather than for its retry schedule: the endpoint's breaker is
   * open, or its concurrency limit was reached. An attempt that frees the endpoint wakes it.
   */
  held: boolean('held').notNull().default(false),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  /** Every change of state sets it: the console's live delivery log follows this column. */
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  uniqueIndex('webhook_deliveries_pair_idx').on(t.messageId, t.endpointId),
  index('webhook_deliveries_due_idx').on(t.status, t.nextAttemptAt),
  index('webhook_deliveries_held_idx').on(t.endpointId, t.nextAttemptAt).where(sql`held`),
  index('webhook_deliveries_changed_idx').on(t.tenantId, t.updatedAt),
]);
