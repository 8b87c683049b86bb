/** Plans and usage (DESIGN §7): `GET /v1/usage` and the console's Billing page. */
import { z } from 'zod';
import { timestamp } from './common.js';

export const PLANS = ['free', 'pro', 'custom'] as const;
export const planSchema = z.enum(PLANS);
export type PlanName = z.infer<typeof planSchema>;
export const BILLING_STATUSES = ['active', 'past_due', 'canceled'] as const;
export type BillingStatus = (typeof BILLING_STATUSES)[number];

/** `GET /v1/usage` (secret key): this month's (UTC, `YYYY-MM`) live MAU against the plan; `limit` null = unlimited. */
export const usageSchema = z.object({
  month: z.string(),
  activeUsers: z.number().int(),
  limit: z.number().int().nullable(),
  plan: planSchema,
});
export type Usage = z.infer<typeof usageSchema>;

export const billingStatusSchema = usageSchema.extend({
  /** The Stripe subscription's state; null when never subscribed or the plan was set by hand. */
  status: z.enum(BILLING_STATUSES).nullable(),
  /** While past_due: when Pro stops (7 days after the first failed payment). */
  graceEndsAt: timestamp.nullable(),
  /** 80 or 100 once MAU reaches that share of the limit. */
  warning: z.number().int().nullable(),
});
export type BillingStatusAnswer = z.infer<typeof billingStatusSchema>;

export const invoiceSchema = z.object({
  id: z.string(),
  number: z.string().nullable(),
  status: z.string().nullable(),
  /** In the currency's smallest unit. */
  total: z.number().int(),
  currency: z.string(),
  created: timestamp,
  url: z.string().nullable(),
});
export type Invoice = z.infer<typeof invoiceSchema>;

/** The console's `GET /tenants/:id/billing` (owners only). `invoices` null: Stripe didn't answer. */
export const billingPageSchema = billingStatusSchema.extend({
  days: z.array(z.object({ day: z.string(), users: z.number().int() })),
  invoices: z.array(invoiceSchema).nullable(),
});
export type BillingPage = z.infer<typeof billingPageSchema>;
