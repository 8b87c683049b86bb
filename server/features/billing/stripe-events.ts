import Stripe from 'stripe';
import type { Db } from '../../db/client';
import { ApiError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { BillingStatus, PlanName } from './plans';
import type { BillingStore } from './store';
import { isStripeOutage } from './stripe-client';

/** Stripe's own default: a signature older than this is a replay, not a retry. */
const TOLERANCE_SECONDS = 300;

export const HANDLED_EVENTS = [
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.paid',
  'invoice.payment_failed',
] as const;

/** What a subscription's state means for the plan. Null: not ours to act on (incomplete checkout, paused). */
export function subscriptionEffect(status: Stripe.Subscription.Status): { plan: PlanName; status: BillingStatus } | null {
  switch (status) {
    case 'active':
    case 'trialing':
      return { plan: 'pro', status: 'active' };
    case 'past_due':
    case 'unpaid':
      return { plan: 'pro', status: 'past_due' };
    case 'canceled':
    case 'incomplete_expired':
      return { plan: 'free', status: 'canceled' };
    default:
      return null;
  }
}

function idOf(v: string | { id: string } | null | undefined): string | null {
  return typeof v === 'string' ? v : (v?.id ?? null);
}

/** The subscription an event is about; its state is then read back from Stripe, never taken from the event. */
function subscriptionIdOf(event: Stripe.Event): string | null {
  const o = event.data.object as unknown as Record<string, unknown>;
  switch (event.type) {
    case 'checkout.session.completed':
      return idOf(o.subscription as string | null);
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted':
      return String(o.id);
    case 'invoice.paid':
    case 'invoice.payment_failed': {
      const parent = o.parent as { subscription_details?: { subscription?: string | { id: string } } } | null;
      return idOf(parent?.subscription_details?.subscription) ?? idOf(o.subscription as string | null);
    }
    default:
      return null;
  }
}

/**
 * Stripe's webhook: verified over the raw body, each event id applied once (in the same
 * transaction as its effect, so a failure forgets it and Stripe's retry applies it), and the
 * subscription read back from Stripe, so events that come twice, late or out of order all
 * leave the plan Stripe has now.
 */
export function createStripeEventHandler(deps: { db: Db; store: BillingStore; stripe: Stripe; webhookSecret: string; logger: Logger; onPlanChanged(tenantId: string): Promise<void> }) {
  const { db, store, stripe } = deps;
  const log = deps.logger.child({ feature: 'billing' });

  function verify(raw: Buffer, signature: string | undefined): Stripe.Event {
    if (!signature) throw new ApiError('bad_request', 'Missing Stripe-Signature header');
    try {
      return stripe.webhooks.constructEvent(raw, signature, deps.webhookSecret, TOLERANCE_SECONDS);
    } catch (err) {
      throw new ApiError('bad_request', `Stripe signature check failed: ${(err as Error).message}`);
    }
  }

  async function readSubscription(id: string): Promise<Stripe.Subscription | null> {
    try {
      return await stripe.subscriptions.retrieve(id);
    } catch (err) {
      if (err instanceof Stripe.errors.StripeInvalidRequestError && err.statusCode === 404) {
        log.warn({ subscriptionId: id }, 'Stripe does not know the subscription an event named; ignored');
        return null;
      }
      throw err;
    }
  }

  async function handle(raw: Buffer, signature: string | undefined): Promise<{ received: true; applied: boolean }> {
    const event = verify(raw, signature);
    if (!(HANDLED_EVENTS as readonly string[]).includes(event.type)) return { received: true, applied: false };
    const subscriptionId = subscriptionIdOf(event);
    const checkout = event.type === 'checkout.session.completed' ? (event.data.object as Stripe.Checkout.Session) : null;
    let changed: string | null = null;
    try {
      const applied = await db.transaction(async (tx) => {
        if (!(await store.markEventProcessed(event.id, event.type, tx))) return false;
        // Read back before touching anything: what Stripe says now, not what the event said then.
        const sub = subscriptionId ? await readSubscription(subscriptionId) : null;
        const customerId = idOf(sub?.customer ?? checkout?.customer ?? null);
        const tenantId = sub?.metadata?.tenant_id || checkout?.client_reference_id || (customerId ? (await store.tenantByCustomer(customerId, tx))?.id : undefined);
        const tenant = tenantId ? await store.tenant(tenantId, tx) : null;
        if (!tenant) {
          log.warn({ eventId: event.id, type: event.type }, 'Stripe event for no tenant of ours; ignored');
          return true;
        }
        const tenantCustomer = customerId ? await store.attachCustomer(tenant.id, customerId, tx) : tenant.stripeCustomerId;
        if (customerId && tenantCustomer !== customerId) {
          log.warn({ eventId: event.id, tenantId: tenant.id }, 'subscription of another customer than the tenant\'s; ignored');
          return true;
        }
        if (!sub) return true;
        const effect = subscriptionEffect(sub.status);
        if (!effect) return true;
        // The end of an old subscription doesn't undo a newer one.
        if (effect.status === 'canceled' && tenant.stripeSubscriptionId && tenant.stripeSubscriptionId !== sub.id) return true;
        // An operator's custom plan stays; the subscription's state is still recorded.
        const plan = tenant.plan === 'custom' ? 'custom' : effect.plan;
        await store.applySubscription(tenant.id, { id: sub.id, plan, status: effect.status }, tx);
        changed = tenant.id;
        return true;
      });
      // Applied either way; a cache that could not be dropped only delays the change to the next refresh.
      if (changed) await deps.onPlanChanged(changed).catch((err) => log.warn({ err, tenantId: changed }, 'cached quota not dropped; scans see the new plan within 10 s'));
      return { received: true, applied };
    } catch (err) {
      if (isStripeOutage(err)) {
        // Nothing was recorded: Stripe retries the event, and the read-back works then.
        log.warn({ err, eventId: event.id }, 'Stripe unavailable while applying an event');
        throw new ApiError('unavailable', 'Stripe is not answering; retry later');
      }
      throw err;
    }
  }

  return { handle };
}
