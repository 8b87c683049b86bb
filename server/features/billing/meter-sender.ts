import Stripe from 'stripe';
import type { Core } from '../../core';
import { createPeriodic } from '../../lib/periodic';
import type { BillingStore, PendingMeterEvent } from './store';
import { isStripeOutage } from './stripe-client';

export interface MeterSenderTuning {
  /** How often unsent meter events are looked for. */
  intervalMs?: number;
  /** How long a claimed row is held before another sender may take it (a sender that died). */
  holdMs?: number;
  /** Events per stream request (Stripe takes up to 100). */
  batch?: number;
}

/** Stripe's limit per meter event stream request. */
const STREAM_MAX = 100;
/** A session token this close to its end is renewed first rather than risk a refusal mid-pass. */
const SESSION_MARGIN_MS = 60_000;
/** Stripe takes meter events up to 35 days old; an older row is sent as of now rather than dropped. */
const MAX_EVENT_AGE_MS = 34 * 86_400_000;

type SendOutcome = 'sent' | 'outage' | 'refused';

/**
 * Turns meter outbox rows into Stripe meter events through the high-throughput meter event
 * stream (API v2): up to 100 events per request, so a burst of new users costs a request per
 * hundred, not one each. The row's id is the event's `identifier`, so a resend after a crash
 * or a lost answer is not counted twice: Stripe drops a repeated identifier (within 24 h).
 * The stream checks events after answering; what it drops shows in Stripe's meter error report.
 * A Stripe outage ends the pass; the rows wait for the next one. Where the API base has no
 * stream, events go one per request to v1, which refuses a repeated identifier instead.
 */
export function createMeterSender(deps: { core: Core; store: BillingStore; stripe: Stripe; eventName: string; tuning?: MeterSenderTuning }) {
  const { core, store, stripe } = deps;
  const log = core.logger.child({ feature: 'billing' });
  const holdMs = deps.tuning?.holdMs ?? 60_000;
  const batch = Math.min(STREAM_MAX, deps.tuning?.batch ?? STREAM_MAX);
  let session: { token: string; expiresAt: number } | null = null;
  /**
   * The stream until the API base answers 404 for it (Stripe-compatible servers such as
   * stripe-mock have only v1): then one event per request, for the life of the process.
   */
  let transport: 'stream' | 'single' = 'stream';

  async function sessionToken(): Promise<string> {
    if (!session || session.expiresAt - SESSION_MARGIN_MS <= Date.now()) {
      const s = await stripe.v2.billing.meterEventSession.create();
      session = { token: s.authentication_token, expiresAt: Date.parse(s.expires_at) };
    }
    return session.token;
  }

  function eventOf(row: PendingMeterEvent) {
    const at = Date.now() - row.createdAt.getTime() < MAX_EVENT_AGE_MS ? row.createdAt : new Date();
    return { event_name: deps.eventName, identifier: row.id, timestamp: at.toISOString(), payload: { stripe_customer_id: row.customerId, value: '1' } };
  }

  async function stream(rows: PendingMeterEvent[]): Promise<void> {
    const events = rows.map(eventOf);
    try {
      await stripe.v2.billing.meterEventStream.create({ events }, { apiKey: await sessionToken() });
    } catch (err) {
      if (!(err instanceof Stripe.errors.TemporarySessionExpiredError)) throw err;
      session = null;
      await stripe.v2.billing.meterEventStream.create({ events }, { apiKey: await sessionToken() });
    }
  }

  /** One event per request (API v1), for an API base without the stream. A repeat Stripe refuses is one it has. */
  async function sendOne(row: PendingMeterEvent): Promise<void> {
    const e = eventOf(row);
    try {
      await stripe.billing.meterEvents.create({ ...e, timestamp: Math.floor(Date.parse(e.timestamp) / 1000) });
    } catch (err) {
      if (err instanceof Stripe.errors.StripeInvalidRequestError && /already exists with identifier/i.test(err.message)) return;
      throw err;
    }
  }

  async function sendBatch(rows: PendingMeterEvent[]): Promise<SendOutcome> {
    const done: string[] = [];
    try {
      if (transport === 'stream') {
        try {
          await stream(rows);
          done.push(...rows.map((r) => r.id));
        } catch (err) {
          if (!(err instanceof Stripe.errors.StripeError && err.statusCode === 404)) throw err;
          transport = 'single';
          log.warn({ err }, 'this Stripe API base has no meter event stream; sending meter events one per request');
        }
      }
      if (transport === 'single') {
        for (const row of rows) {
          await sendOne(row);
          done.push(row.id);
        }
      }
    } catch (err) {
      if (done.length) await store.meterEventsSent(done);
      const rest = rows.map((r) => r.id).filter((id) => !done.includes(id));
      if (isStripeOutage(err)) {
        await store.meterEventsFailed(rest, (err as Error).message, 'now');
        log.warn({ err, pending: rest.length }, 'Stripe unavailable; meter events wait for the next pass');
        return 'outage';
      }
      await store.meterEventsFailed(rest, (err as Error).message, 'later');
      log.error({ err, events: rest.length }, 'Stripe refused a meter event request; its events stay in the outbox');
      return 'refused';
    }
    await store.meterEventsSent(done);
    return 'sent';
  }

  /** One pass: claim a batch, stream it, until none is left or Stripe fails. */
  async function pass(): Promise<number> {
    let sent = 0;
    for (;;) {
      const rows = await store.claimMeterEvents(batch, holdMs);
      if (!rows.length) return sent;
      if ((await sendBatch(rows)) !== 'sent') return sent;
      sent += rows.length;
      if (rows.length < batch) return sent;
    }
  }

  const periodic = createPeriodic(async () => void (await pass()), deps.tuning?.intervalMs ?? 5_000, (err) => log.warn({ err }, 'meter pass failed; the next one retries'));
  return { pass, start: () => periodic.start(), stop: () => periodic.stop() };
}
