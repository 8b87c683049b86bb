import type Stripe from 'stripe';
import type { BillingStatusAnswer, Invoice, Usage } from '../../../contract/index.js';
import type { Core } from '../../core';
import { ApiError } from '../../lib/errors';
import { pipelineValues } from '../../lib/redis';
import type { KeyMode } from '../../lib/ids';
import { monthOf, planInForce, WARNING_THRESHOLDS, type PlanInForce, type PlanName } from './plans';
import type { BillingStore, TenantBillingRow } from './store';
import { isStripeOutage } from './stripe-client';

/** Sends `billing.quota_warning` to a tenant's endpoints (the webhooks feature's outbox). */
export interface QuotaWarningPort {
  send(tenantId: string, data: { month: string; activeUsers: number; limit: number; threshold: number; plan: PlanName }): Promise<void>;
}

/** How long a scan trusts a tenant's cached limit and count. */
const QUOTA_CACHE_MS = 10_000;
/**
 * How long a process keeps its own copy: a Redis read per scan showed as 2 % of the server's
 * CPU in the login bench, and a second's delay in seeing a plan change costs nothing.
 */
const LOCAL_QUOTA_MS = 1_000;
/** Tenants scanning within a second beyond this are rare; the copy is then simply started over. */
const LOCAL_QUOTAS_MAX = 10_000;

type Quota = { limit: number | null; count: number; plan: PlanName };

/**
 * Below the limit by more than this, a scan trusts the cached count; closer, it counts in
 * Postgres. So the limit can only be overshot by a burst of more new users than this within
 * one cache period, and a tenant far from its limit costs one Redis read per scan.
 */
function headroom(limit: number): number {
  return Math.max(25, Math.ceil(limit / 10));
}

const QUOTA_WORDS = "This site has reached its plan's limit of monthly users. Ask the site's owner to upgrade, then try again.";

export function createBillingService(deps: {
  core: Core;
  store: BillingStore;
  /** Null = billing off: nothing is limited and nothing calls Stripe. */
  stripe: Stripe | null;
  warnings: QuotaWarningPort;
  quotaCacheMs?: number;
}) {
  const { core, store, stripe, warnings } = deps;
  const quotaCacheMs = deps.quotaCacheMs ?? QUOTA_CACHE_MS;
  const cfg = core.config.billing;
  const log = core.logger.child({ feature: 'billing' });
  const billingOn = Boolean(stripe && cfg);

  function inForce(row: TenantBillingRow): PlanInForce {
    return planInForce(row, { billingOn, freeMau: core.config.planFreeMau });
  }

  async function tenantOrThrow(tenantId: string): Promise<TenantBillingRow> {
    const row = await store.tenant(tenantId);
    if (!row) throw new ApiError('not_found', 'No such organisation');
    return row;
  }

  function needStripe(): { stripe: Stripe; cfg: NonNullable<typeof cfg> } {
    if (!stripe || !cfg) throw new ApiError('not_found', 'Billing is not enabled on this server');
    return { stripe, cfg };
  }

  async function stripeCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isStripeOutage(err)) {
        log.warn({ err }, `Stripe unavailable: ${what}`);
        throw new ApiError('unavailable', 'Our payment provider is not answering; try again in a minute');
      }
      throw err;
    }
  }

  async function usage(tenantId: string, at = new Date()): Promise<{ row: TenantBillingRow; plan: PlanInForce; usage: Usage }> {
    const row = await tenantOrThrow(tenantId);
    const plan = inForce(row);
    const month = monthOf(at);
    const activeUsers = await store.activeUsers(tenantId, month);
    return { row, plan, usage: { month: month.slice(0, 7), activeUsers, limit: plan.limit, plan: plan.plan } };
  }

  function warningLevel(activeUsers: number, limit: number | null): number | null {
    if (limit === null) return null;
    let level: number | null = null;
    for (const t of WARNING_THRESHOLDS) if (activeUsers * 100 >= limit * t) level = t;
    return level;
  }

  /** Once per threshold per month, whoever notices first (any instance). */
  async function warnIfDue(tenantId: string, plan: PlanName, activeUsers: number, limit: number, month: string) {
    const level = warningLevel(activeUsers, limit);
    for (const threshold of WARNING_THRESHOLDS) {
      if (level === null || threshold > level) break;
      if (await store.claimWarning(tenantId, month, threshold)) {
        await warnings.send(tenantId, { month: month.slice(0, 7), activeUsers, limit, threshold, plan });
      }
    }
  }

  /** This process's copy of cached quotas, each kept no longer than the Redis entry it was read from. */
  const localQuotas = new Map<string, { q: Quota; until: number }>();

  function keepLocally(key: string, q: Quota, redisTtlMs: number) {
    if (localQuotas.size >= LOCAL_QUOTAS_MAX) localQuotas.clear();
    localQuotas.set(key, { q, until: Date.now() + Math.min(LOCAL_QUOTA_MS, redisTtlMs) });
  }

  /**
   * The limit and count a scan checks against: from this process's copy for a second, else
   * from Redis while fresh (no Postgres on most scans), else counted again; warns when due.
   */
  async function quota(tenantId: string, month: string): Promise<Quota> {
    const key = core.key('billing', 'quota', tenantId, month);
    const local = localQuotas.get(key);
    if (local && local.until > Date.now()) return local.q;
    // An outage throws (503) rather than reading as a miss that sends every scan to Postgres.
    const [cached, ttl] = (await pipelineValues(core.redis.client.pipeline().get(key).pttl(key))) as [string | null, number];
    if (cached) {
      const q = JSON.parse(cached) as Quota;
      keepLocally(key, q, ttl);
      return q;
    }
    const row = await tenantOrThrow(tenantId);
    const plan = inForce(row);
    const count = plan.limit === null ? 0 : await store.activeUsers(tenantId, month);
    const q = { limit: plan.limit, count, plan: plan.plan };
    await core.redis.client.set(key, JSON.stringify(q), 'PX', quotaCacheMs);
    keepLocally(key, q, quotaCacheMs);
    if (plan.limit !== null) {
      warnIfDue(tenantId, plan.plan, count, plan.limit, month).catch((err) => log.warn({ err, tenantId }, 'quota warning not sent; the next check retries'));
    }
    return q;
  }

  /**
   * Drops the cached quota so a plan change is felt by the next scan here and, on other
   * instances, once their local copy (at most a second old) runs out.
   */
  async function forgetQuota(tenantId: string) {
    const key = core.key('billing', 'quota', tenantId, monthOf(new Date()));
    localQuotas.delete(key);
    await core.redis.client.del(key);
  }

  /** The tenant's one customer: created on first need, attached only if the tenant still has none. */
  async function ensureCustomer(tenantId: string): Promise<string> {
    const { stripe: s } = needStripe();
    const row = await tenantOrThrow(tenantId);
    if (row.stripeCustomerId) return row.stripeCustomerId;
    const customer = await stripeCall('create customer', () => s.customers.create(
      // Only what is the same for every owner (Checkout asks for the billing email), so that two
      // owners clicking Upgrade at once send the same request and get the same customer, not two.
      { name: row.name, metadata: { tenant_id: tenantId } },
      { idempotencyKey: `customer-${tenantId}` },
    ));
    const attached = await store.attachCustomer(tenantId, customer.id);
    return attached ?? customer.id;
  }

  return {
    enabled: billingOn,
    usage: async (tenantId: string) => (await usage(tenantId)).usage,

    async status(tenantId: string): Promise<BillingStatusAnswer> {
      const { plan, usage: u } = await usage(tenantId);
      return { ...u, status: plan.status, graceEndsAt: plan.graceEndsAt?.toISOString() ?? null, warning: warningLevel(u.activeUsers, u.limit) };
    },

    async byDay(tenantId: string) {
      return store.activeUsersByDay(tenantId, monthOf(new Date()));
    },

    /**
     * At scan time, live mode, billing on: a tenant at its limit still lets in a user already
     * active this month, and refuses a new one. Answers the refusal, or null.
     */
    async refusal(scope: { tenantId: string; appId: string; mode: KeyMode }, openid: string): Promise<{ code: 'quota_exceeded'; message: string } | null> {
      if (!billingOn || scope.mode !== 'live') return null;
      const month = monthOf(new Date());
      const q = await quota(scope.tenantId, month);
      if (q.limit === null || q.count < q.limit - headroom(q.limit)) return null;
      if ((await store.activeUsers(scope.tenantId, month)) < q.limit) return null;
      if (await store.isActive(scope.tenantId, scope.appId, openid, month)) return null;
      return { code: 'quota_exceeded', message: QUOTA_WORDS };
    },

    forgetQuota,

    async checkout(tenantId: string, returnUrl: string): Promise<{ url: string }> {
      const { stripe: s, cfg: c } = needStripe();
      const row = await tenantOrThrow(tenantId);
      const plan = inForce(row);
      if (plan.plan === 'pro' && plan.status !== 'canceled') throw new ApiError('conflict', 'This organisation is on Pro already; use Manage to change the subscription');
      if (plan.plan === 'custom') throw new ApiError('conflict', 'This organisation has a custom plan; contact us to change it');
      const customer = await ensureCustomer(tenantId);
      const session = await stripeCall('create checkout session', () => s.checkout.sessions.create({
        mode: 'subscription',
        customer,
        client_reference_id: tenantId,
        line_items: [{ price: c.pricePro, quantity: 1 }, ...(c.priceProMau ? [{ price: c.priceProMau }] : [])],
        subscription_data: { metadata: { tenant_id: tenantId } },
        success_url: `${returnUrl}?checkout=success`,
        cancel_url: `${returnUrl}?checkout=cancelled`,
      }));
      if (!session.url) throw new ApiError('unavailable', 'Stripe did not give a checkout page; try again');
      return { url: session.url };
    },

    async portal(tenantId: string, returnUrl: string): Promise<{ url: string }> {
      const { stripe: s } = needStripe();
      const row = await tenantOrThrow(tenantId);
      if (!row.stripeCustomerId) throw new ApiError('conflict', 'There is no subscription to manage yet; upgrade first');
      const session = await stripeCall('create portal session', () => s.billingPortal.sessions.create({ customer: row.stripeCustomerId!, return_url: returnUrl }));
      return { url: session.url };
    },

    async invoices(tenantId: string): Promise<Invoice[]> {
      const { stripe: s } = needStripe();
      const row = await tenantOrThrow(tenantId);
      if (!row.stripeCustomerId) return [];
      const list = await stripeCall('list invoices', () => s.invoices.list({ customer: row.stripeCustomerId!, limit: 24 }));
      return list.data.map((i) => ({
        id: i.id ?? '',
        number: i.number ?? null,
        status: i.status ?? null,
        total: i.total,
        currency: i.currency,
        created: new Date(i.created * 1000).toISOString(),
        url: i.hosted_invoice_url ?? null,
      }));
    },
  };
}

export type BillingService = ReturnType<typeof createBillingService>;
