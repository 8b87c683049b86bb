import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Stripe event ids already applied: a replayed or retried event changes nothing. */
export const stripeEvents = pgTable('stripe_events', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
});
