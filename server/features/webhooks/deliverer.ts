import { and, eq, lte, sql, type SQL } from 'drizzle-orm';
import type { Core } from '../../core';
import { rowsOf } from '../../db/client';
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookMessages } from '../../db/schema/index';
import { decrypt } from '../../lib/crypto';
import { newId } from '../../lib/ids';
import { createBreaker, holdsSlot, type BreakerTuning } from './breaker';
import { postWebhook } from './http-post';
import type { DeliveryQueue } from './queue';
import { nextDelay } from './schedule';
import { webhookHeaders } from './signing';
import { secretContext } from './store';
import { webhookUrlPolicy } from './url-safety';

export interface DeliveryTuning {
  /** Waits between attempts (Svix's by default); tests pass milliseconds. */
  scheduleMs: number[];
  /** Deadline over one whole HTTP exchange. */
  timeoutMs: number;
  /** Deadline for lookup, connect and TLS handshake, well under `timeoutMs`. */
  connectTimeoutMs: number;
  /** How long a claimed delivery belongs to the worker that claimed it; longer than any attempt. */
  leaseMs: number;
  /** An endpoint whose deliveries have failed for this long is disabled. */
  disableAfterMs: number;
  /** Attempts one worker process runs at once against one endpoint. */
  endpointConcurrency: number;
  breaker: BreakerTuning;
}

export type AttemptOutcome = 'succeeded' | 'retrying' | 'failed' | 'skipped' | 'held';

/**
 * Attempts in flight per endpoint in this process. The worker's slots are shared by every
 * tenant; without this, a burst to one endpoint that hangs would hold all of them for the
 * whole timeout and every other tenant's deliveries would wait behind it.
 */
function endpointSlots(limit: number) {
  const inFlight = new Map<string, number>();
  return {
    full: (id: string) => (inFlight.get(id) ?? 0) >= limit,
    /** `force` for the breaker's probe: the one attempt a paused endpoint gets must not be turned away. */
    take(id: string, force = false): boolean {
      const n = inFlight.get(id) ?? 0;
      if (n >= limit && !force) return false;
      inFlight.set(id, n + 1);
      return true;
    },
    release(id: string) {
      const n = (inFlight.get(id) ?? 1) - 1;
      if (n <= 0) inFlight.delete(id);
      else inFlight.set(id, n);
    },
  };
}

/**
 * How long a delivery waits for a slot before it is tried anyway. Slots that finish an
 * attempt go on with the held deliveries, so this is only the backstop for a worker that died
 * mid-attempt; it is long so that a large backlog isn't re-examined often.
 */
const HOLD_BACKSTOP_MS = 5 * 60_000;
/** How long, and for how many deliveries, one job carries on with an endpoint's held deliveries. */
const DRAIN_MS = 10_000;
const DRAIN_MAX = 200;

/**
 * One attempt of one delivery. The claim (moving next_attempt_at past the attempt's end)
 * is what stops two workers sending the same due attempt; if this worker dies mid-request
 * the claim simply expires and the sweeper finds the delivery due again.
 *
 * Fairness: an attempt whose endpoint is paused by its breaker, or already has
 * `endpointConcurrency` attempts in flight here, is *held*: it gives its worker slot back at
 * once and waits, without spending a retry, until the pause ends, or until a slot that
 * finishes an attempt to that endpoint carries on with it (or, failing both, until
 * HOLD_BACKSTOP_MS runs out).
 */
/**
 * Adds to a stored payload what must not be stored with it in clear (the visitor's phone number,
 * features/phone), read at each attempt: a number erased meanwhile is not sent.
 */
export type PayloadEnricher = (message: { appId: string; mode: 'test' | 'live'; type: string; payload: Record<string, unknown> }) => Promise<Record<string, unknown>>;

export function createDeliverer(core: Core, queue: DeliveryQueue, tuning: DeliveryTuning, enrich?: PayloadEnricher) {
  const { db } = core;
  const breaker = createBreaker(db, tuning.breaker, tuning.leaseMs);
  const slots = endpointSlots(tuning.endpointConcurrency);

  async function fail(deliveryId: string) {
    await db.update(webhookDeliveries).set({ status: 'failed', nextAttemptAt: null, held: false, updatedAt: new Date() })
      .where(eq(webhookDeliveries.id, deliveryId));
  }

  /** Waits for the breaker's pause to end (a job then, so it is tried as soon as the pause allows). */
  async function holdUntil(deliveryId: string, endpointId: string, until: Date) {
    await db.update(webhookDeliveries).set({ held: true, nextAttemptAt: until, updatedAt: new Date() }).where(eq(webhookDeliveries.id, deliveryId));
    await queue.enqueue([{ id: deliveryId, due: until, endpointId }]);
  }

  /**
   * Waits for a slot: no job, a finishing attempt wakes it. `dueOnly` holds it only if it is
   * still pending and due (the caller hasn't claimed it). Answers whether it was held.
   */
  async function holdForSlot(deliveryId: string, endpointId: string, dueOnly: boolean): Promise<boolean> {
    const now = new Date();
    const rows = await db.update(webhookDeliveries)
      .set({ held: true, nextAttemptAt: new Date(now.getTime() + HOLD_BACKSTOP_MS), updatedAt: now })
      .where(dueOnly
        ? and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.status, 'pending'), lte(webhookDeliveries.nextAttemptAt, now))
        : eq(webhookDeliveries.id, deliveryId))
      .returning({ id: webhookDeliveries.id });
    // Every attempt that was in flight here may have finished while this was being held, with
    // nothing held yet for it to wake: then wake one now, or it would wait for the backstop.
    if (rows.length && !slots.full(endpointId)) await bringForward(endpointId, 1, new Date());
    return rows.length > 0;
  }

  /** Makes the `n` longest-held deliveries to this endpoint that are due later than `at` due at `at`. */
  async function bringForward(endpointId: string, n: number, at: Date) {
    const time = at.toISOString();
    const rows = rowsOf(await db.execute(sql`
      update webhook_deliveries set next_attempt_at = ${time}::timestamptz, updated_at = now()
      where id in (
        select id from webhook_deliveries
        where endpoint_id = ${endpointId} and held and status = 'pending' and next_attempt_at > ${time}::timestamptz
        order by next_attempt_at limit ${n}
        for update skip locked)
      returning id`)) as Array<{ id: string }>;
    await queue.enqueue(rows.map((r) => ({ id: r.id, due: at, endpointId })));
  }

  async function disable(endpointId: string, at: Date, reason: string) {
    await db.update(webhookEndpoints).set({ enabled: false, disabledReason: `Disabled ${at.toISOString()}: ${reason}`, updatedAt: at })
      .where(eq(webhookEndpoints.id, endpointId));
  }

  /** Records a failure on the endpoint; answers whether its breaker is still closed. */
  async function endpointFailed(endpointId: string, at: Date, gone: boolean, slowly: boolean): Promise<boolean> {
    if (gone) {
      await disable(endpointId, at, 'the endpoint answered 410 Gone');
      return false;
    }
    const ep = await breaker.failed(endpointId, at, slowly);
    if (ep?.enabled && ep.failingSince && at.getTime() - ep.failingSince.getTime() >= tuning.disableAfterMs) {
      const days = Math.round((tuning.disableAfterMs / 86_400_000) * 10) / 10;
      await disable(endpointId, at, `every delivery failed since ${ep.failingSince.toISOString()} (${days} days)`);
    }
    // Someone must be due when the pause ends to probe the endpoint; held deliveries may be
    // waiting for a probe's claim to lapse, or for a slot, later than that.
    if (ep?.circuit === 'open' && ep.pausedUntil) await bringForward(endpointId, 1, ep.pausedUntil);
    return ep?.circuit === 'closed';
  }

  type Delivery = typeof webhookDeliveries.$inferSelect;

  /**
   * Moves next_attempt_at past the attempt's end: only the worker whose update matched sends.
   * A claimed delivery is no longer held, so no other slot's claimHeld can take it as well.
   */
  async function claim(where: SQL | undefined, at: Date): Promise<Delivery | null> {
    const [claimed] = await db.update(webhookDeliveries)
      .set({ nextAttemptAt: new Date(at.getTime() + tuning.leaseMs), held: false })
      .where(where)
      .returning();
    return claimed ?? null;
  }

  const claimDue = (deliveryId: string, at: Date) =>
    claim(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.status, 'pending'), lte(webhookDeliveries.nextAttemptAt, at)), at);

  /** The longest-held delivery waiting for this endpoint, if any. */
  const claimHeld = (endpointId: string, at: Date) => claim(sql`${webhookDeliveries.id} = (
    select id from webhook_deliveries where endpoint_id = ${endpointId} and held and status = 'pending'
    order by next_attempt_at limit 1 for update skip locked)`, at);

  async function load(d: Delivery) {
    const [row] = await db
      .select({ message: webhookMessages, endpoint: webhookEndpoints })
      .from(webhookMessages)
      .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, d.endpointId))
      .where(eq(webhookMessages.id, d.messageId));
    return row ?? null;
  }

  type Loaded = NonNullable<Awaited<ReturnType<typeof load>>>;

  /** Sends one claimed delivery and records the outcome. `closed`: the endpoint's breaker still lets attempts through. */
  async function send(d: Delivery, { message, endpoint }: Loaded): Promise<{ outcome: AttemptOutcome; closed: boolean }> {
    const secrets = [decrypt(core.config.masterKey, endpoint.secretEnc, secretContext(endpoint.id))];
    const sentAt = new Date();
    if (endpoint.previousSecretEnc && endpoint.previousSecretUntil && endpoint.previousSecretUntil > sentAt) {
      secrets.push(decrypt(core.config.masterKey, endpoint.previousSecretEnc, secretContext(endpoint.id)));
    }
    const body = JSON.stringify(enrich ? await enrich(message) : message.payload);
    const result = await postWebhook(endpoint.url, webhookHeaders(secrets, message.id, body, sentAt), body, {
      timeoutMs: tuning.timeoutMs,
      connectTimeoutMs: tuning.connectTimeoutMs,
      policy: webhookUrlPolicy(core.config, endpoint.mode),
    });
    const ok = result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300;
    const attemptNo = d.attempts + 1;
    const doneAt = new Date();

    await db.insert(webhookAttempts).values({
      id: newId('att'),
      deliveryId: d.id,
      attempt: attemptNo,
      statusCode: result.statusCode ?? null,
      durationMs: result.durationMs,
      responseBody: result.body || null,
      error: result.error ?? (ok ? null : `HTTP ${result.statusCode}`),
      createdAt: sentAt,
    });
    core.metrics.webhookAttempts.inc({ outcome: ok ? 'success' : 'failure' });

    if (ok) {
      await db.update(webhookDeliveries)
        .set({ status: 'succeeded', attempts: attemptNo, lastAttemptAt: sentAt, nextAttemptAt: null, held: false, updatedAt: doneAt })
        .where(eq(webhookDeliveries.id, d.id));
      await breaker.succeeded(endpoint.id, doneAt);
      return { outcome: 'succeeded', closed: true };
    }
    const gone = result.statusCode === 410;
    const delay = gone ? null : nextDelay(tuning.scheduleMs, attemptNo, result.retryAfterMs);
    const due = delay === null ? null : new Date(doneAt.getTime() + delay);
    await db.update(webhookDeliveries)
      .set({ status: due ? 'pending' : 'failed', attempts: attemptNo, lastAttemptAt: sentAt, nextAttemptAt: due, held: false, updatedAt: doneAt })
      .where(eq(webhookDeliveries.id, d.id));
    if (due) await queue.enqueue([{ id: d.id, due, endpointId: endpoint.id }]);
    return { outcome: due ? 'retrying' : 'failed', closed: await endpointFailed(endpoint.id, sentAt, gone, holdsSlot(result, tuning.timeoutMs)) };
  }

  return async function attempt(deliveryId: string, endpointId?: string): Promise<AttemptOutcome> {
    // A burst to one endpoint: hold what it can't take yet at the cost of one statement.
    if (endpointId && slots.full(endpointId)) return (await holdForSlot(deliveryId, endpointId, true)) ? 'held' : 'skipped';
    const claimedAt = new Date();
    const claimed = await claimDue(deliveryId, claimedAt);
    if (!claimed) return 'skipped';
    const loaded = await load(claimed);
    if (!loaded) return 'skipped';
    const { endpoint } = loaded;
    if (!endpoint.enabled) {
      await fail(deliveryId);
      return 'failed';
    }

    const admission = await breaker.admit(endpoint, claimedAt);
    if (!admission.go) {
      await holdUntil(deliveryId, endpoint.id, admission.until);
      return 'held';
    }
    if (!slots.take(endpoint.id, admission.probe)) {
      await holdForSlot(deliveryId, endpoint.id, false);
      return 'held';
    }

    let result: { outcome: AttemptOutcome; closed: boolean };
    let first: AttemptOutcome;
    let handOff = false;
    try {
      result = await send(claimed, loaded);
      first = result.outcome;
      // While the endpoint takes them, this slot goes on with the deliveries held for it: a
      // burst to one endpoint doesn't pay a trip through the queue per delivery. Bounded, so
      // one job doesn't hold its worker slot (or a shutdown) for long.
      const until = Date.now() + DRAIN_MS;
      for (let n = 0; result.closed; n++) {
        if (n >= DRAIN_MAX || Date.now() >= until) {
          handOff = true;
          break;
        }
        const next = await claimHeld(endpoint.id, new Date());
        if (!next) break;
        const nextLoaded = await load(next);
        if (!nextLoaded) continue;
        if (!nextLoaded.endpoint.enabled) {
          await fail(next.id);
          break;
        }
        // Another worker process may have opened the breaker meanwhile.
        const gate = await breaker.admit(nextLoaded.endpoint, new Date());
        if (!gate.go) {
          await holdUntil(next.id, endpoint.id, gate.until);
          break;
        }
        result = await send(next, nextLoaded);
      }
    } finally {
      slots.release(endpoint.id);
    }
    // A successful probe reopens the endpoint: start the other slots it may use.
    const wake = (result.closed && admission.probe ? tuning.endpointConcurrency - 1 : 0) + (handOff ? 1 : 0);
    if (wake > 0) await bringForward(endpoint.id, wake, new Date());
    return first;
  };
}
