import Stripe from 'stripe';
import type { Core } from '../../core';
import { createPeriodic } from '../../lib/periodic';
import type { BillingStore } from './store';
import { isStripeOutage } from './stripe-client';

export interface MeterSenderTuning {
  /** How often unsent meter events are looked for. */
  intervalMs?: number;
  /** How long a claimed row is held before another sender may take it (a sender that died). */
  holdMs?: number;
  batch?: number;
}

/**
 * Turns meter outbox rows into Stripe meter events. The row's id is the event's `identifier`,
 * so a resend after a crash or a lost answer is not counted twice: Stripe refuses a second
 * event with the same identifier, and that refusal means it has the first. A Stripe outage ends the pass; the rows wait for the next one.
 */
export function createMeterSender(deps: { core: Core; store: BillingStore; stripe: Stripe; eventName: string; tuning?: MeterSenderTuning }) {
  const { core, store, stripe } = deps;
  const log = core.logger.child({ feature: 'billing' });
  const holdMs = deps.tuning?.holdMs ?? 60_000;
  const batch = deps.tuning?.batch ?? 100;

  async function sendOne(id: string, customerId: string): Promise<'sent' | 'outage' | 'refused'> {
    try {
      // The SDK's own retries share an idempotency key; a later pass relies on the identifier.
      await stripe.billing.meterEvents.create({ event_name: deps.eventName, payload: { stripe_customer_id: customerId, value: '1' }, identifier: id });
      await store.meterEventSent(id);
      return 'sent';
    } catch (err) {
      if (err instanceof Stripe.errors.StripeInvalidRequestError && /already exists with identifier/i.test(err.message)) {
        await store.meterEventSent(id);
        return 'sent';
      }
      await store.meterEventFailed(id, (err as Error).message);
      if (isStripeOutage(err)) return 'outage';
      log.error({ err, identifier: id }, 'Stripe refused a meter event; it stays in the outbox');
      return 'refused';
    }
  }

  /** One pass: claim a batch, send it in order, stop at the first sign of an outage. */
  async function pass(): Promise<number> {
    let sent = 0;
    for (;;) {
      const rows = await store.claimMeterEvents(batch, holdMs);
      if (!rows.length) return sent;
      for (const [i, row] of rows.entries()) {
        const r = await sendOne(row.id, row.customerId);
        if (r === 'sent') sent++;
        if (r === 'outage') {
          log.warn({ pending: rows.length - i }, 'Stripe unavailable; meter events wait for the next pass');
          for (const rest of rows.slice(i + 1)) await store.meterEventFailed(rest.id, 'not tried: Stripe unavailable');
          return sent;
        }
      }
      if (rows.length < batch) return sent;
    }
  }

  const periodic = createPeriodic(async () => void (await pass()), deps.tuning?.intervalMs ?? 5_000, (err) => log.warn({ err }, 'meter pass failed; the next one retries'));
  return { pass, start: () => periodic.start(), stop: () => periodic.stop() };
}
