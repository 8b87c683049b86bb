/**
 * What each plan allows, and the plan a tenant is on right now. A tenant row records the plan
 * and the subscription's state as last read from Stripe; the plan in force is derived from
 * them at read time, so the end of a grace period needs no timer.
 */
import { PLANS, type BillingStatus, type PlanName } from '../../../contract/index.js';

export { PLANS, type BillingStatus, type PlanName };

/** A failed renewal keeps Pro this long, so the owner has time to fix the card. */
export const PAST_DUE_GRACE_MS = 7 * 24 * 3600_000;

const ENDPOINTS_PER_APP: Record<PlanName, number> = { free: 3, pro: 20, custom: 20 };
/** The console warns, and a `billing.quota_warning` webhook goes out, at these shares of the limit. */
export const WARNING_THRESHOLDS = [80, 100] as const;

export interface TenantPlanRow {
  plan: string;
  mauLimit: number | null;
  billingStatus: string | null;
  pastDueSince: Date | null;
}

export interface PlanInForce {
  plan: PlanName;
  /** The subscription's state (null: never subscribed, or a plan set by hand). */
  status: BillingStatus | null;
  /** Live MAU allowed this month; null = unlimited. */
  limit: number | null;
  endpointsPerApp: number;
  /** Set while a past_due subscription is in its grace period. */
  graceEndsAt: Date | null;
}

function planName(v: string): PlanName {
  return (PLANS as readonly string[]).includes(v) ? (v as PlanName) : 'free';
}

/**
 * `billingOn` false (self-hosting): whatever the row says, nothing is limited by a plan.
 * Pro past its grace period counts as free, though the row still says pro (Stripe may yet
 * collect the payment, and then the next event puts it back).
 */
export function planInForce(row: TenantPlanRow, opts: { billingOn: boolean; freeMau: number; now?: Date }): PlanInForce {
  const status = (row.billingStatus as BillingStatus | null) ?? null;
  let plan = planName(row.plan);
  let graceEndsAt: Date | null = null;
  if (plan === 'pro' && status === 'past_due' && row.pastDueSince) {
    graceEndsAt = new Date(row.pastDueSince.getTime() + PAST_DUE_GRACE_MS);
    if ((opts.now ?? new Date()) >= graceEndsAt) {
      plan = 'free';
      graceEndsAt = null;
    }
  }
  const limit = !opts.billingOn ? null : plan === 'free' ? opts.freeMau : plan === 'custom' ? row.mauLimit : null;
  return { plan, status, limit, endpointsPerApp: ENDPOINTS_PER_APP[plan], graceEndsAt };
}

/** The month's first day (UTC) as YYYY-MM-DD, the `month` column's value. */
export function monthOf(at: Date): string {
  return `${at.getUTCFullYear()}-${String(at.getUTCMonth() + 1).padStart(2, '0')}-01`;
}

