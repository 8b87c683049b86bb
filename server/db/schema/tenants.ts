import { boolean, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

export const tenants = pgTable('tenants', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** free | pro | custom (features/billing/plans.ts). Pro follows the Stripe subscription; custom is set by the operator. */
  plan: text('plan').notNull().default('free'),
  /** The custom plan's live MAU limit; null = unlimited. */
  mauLimit: integer('mau_limit'),
  stripeCustomerId: text('stripe_customer_id'),
  stripeSubscriptionId: text('stripe_subscription_id'),
  /** The subscription's state as last read from Stripe: active | past_due | canceled (null: never subscribed). */
  billingStatus: text('billing_status'),
  /** When the subscription was first seen past_due: the grace period runs from here. */
  pastDueSince: timestamp('past_due_since', { withTimezone: true }),
  /** An owner's rule: every member must have two-factor on to open this organisation. */
  require2fa: boolean('require_2fa').notNull().default(false),
  /** How long audit events are kept (the sweeper deletes older rows). */
  auditRetentionDays: integer('audit_retention_days').notNull().default(365),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [uniqueIndex('tenants_stripe_customer_idx').on(t.stripeCustomerId)]);
