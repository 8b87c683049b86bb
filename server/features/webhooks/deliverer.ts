import { and, eq, lte, sql } from 'drizzle-orm';
import type { Core } from '../../core';
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookMessages } from '../../db/schema/index';
import { decrypt } from '../../lib/crypto';
import { newId } from '../../lib/ids';
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
  /** How long a claimed delivery belongs to the worker that claimed it; longer than any attempt. */
  leaseMs: number;
  /** An endpoint whose deliveries have failed for this long is disabled. */
  disableAfterMs: number;
}

export type AttemptOutcome = 'succeeded' | 'retrying' | 'failed' | 'skipped';

/**
 * One attempt of one delivery. The claim (moving next_attempt_at past the attempt's end)
 * is what stops two workers sending the same due attempt; if this worker dies mid-request
 * the claim simply expires and the sweeper finds the delivery due again.
 */
export function createDeliverer(core: Core, queue: DeliveryQueue, tuning: DeliveryTuning) {
  const { db } = core;

  async function fail(deliveryId: string) {
    await db.update(webhookDeliveries).set({ status: 'failed', nextAttemptAt: null }).where(eq(webhookDeliveries.id, deliveryId));
  }

  async function endpointFailed(endpointId: string, at: Date, gone: boolean) {
    if (gone) {
      await db.update(webhookEndpoints).set({
        enabled: false,
        disabledReason: `Disabled ${at.toISOString()}: the endpoint answered 410 Gone`,
        updatedAt: at,
      }).where(eq(webhookEndpoints.id, endpointId));
      return;
    }
    const [ep] = await db.update(webhookEndpoints)
      .set({ failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${at.toISOString()}::timestamptz)` })
      .where(eq(webhookEndpoints.id, endpointId))
      .returning({ failingSince: webhookEndpoints.failingSince, enabled: webhookEndpoints.enabled });
    if (ep?.enabled && ep.failingSince && at.getTime() - ep.failingSince.getTime() >= tuning.disableAfterMs) {
      const days = Math.round((tuning.disableAfterMs / 86_400_000) * 10) / 10;
      await db.update(webhookEndpoints).set({
        enabled: false,
        disabledReason: `Disabled ${at.toISOString()}: every delivery failed since ${ep.failingSince.toISOString()} (${days} days)`,
        updatedAt: at,
      }).where(eq(webhookEndpoints.id, endpointId));
    }
  }

  return async function attempt(deliveryId: string): Promise<AttemptOutcome> {
    const claimedAt = new Date();
    const [claimed] = await db.update(webhookDeliveries)
      .set({ nextAttemptAt: new Date(claimedAt.getTime() + tuning.leaseMs) })
      .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.status, 'pending'), lte(webhookDeliveries.nextAttemptAt, claimedAt)))
      .returning();
    if (!claimed) return 'skipped';

    const [row] = await db
      .select({ message: webhookMessages, endpoint: webhookEndpoints })
      .from(webhookMessages)
      .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, claimed.endpointId))
      .where(eq(webhookMessages.id, claimed.messageId));
    if (!row) return 'skipped';
    const { message, endpoint } = row;
    if (!endpoint.enabled) {
      await fail(deliveryId);
      return 'failed';
    }

    const secrets = [decrypt(core.config.masterKey, endpoint.secretEnc, secretContext(endpoint.id))];
    if (endpoint.previousSecretEnc && endpoint.previousSecretUntil && endpoint.previousSecretUntil > claimedAt) {
      secrets.push(decrypt(core.config.masterKey, endpoint.previousSecretEnc, secretContext(endpoint.id)));
    }
    const body = JSON.stringify(message.payload);
    const sentAt = new Date();
    const result = await postWebhook(endpoint.url, webhookHeaders(secrets, message.id, body, sentAt), body, {
      timeoutMs: tuning.timeoutMs,
      policy: webhookUrlPolicy(core.config, endpoint.mode),
    });
    const ok = result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300;
    const attemptNo = claimed.attempts + 1;
    const doneAt = new Date();

    await db.insert(webhookAttempts).values({
      id: newId('att'),
      deliveryId,
      attempt: attemptNo,
      statusCode: result.statusCode ?? null,
      durationMs: result.durationMs,
      responseBody: result.body || null,
      error: result.error ?? (ok ? null : `HTTP ${result.statusCode}`),
      createdAt: sentAt,
    });

    let outcome: AttemptOutcome;
    if (ok) {
      await db.update(webhookDeliveries)
        .set({ status: 'succeeded', attempts: attemptNo, lastAttemptAt: sentAt, nextAttemptAt: null })
        .where(eq(webhookDeliveries.id, deliveryId));
      await db.update(webhookEndpoints).set({ failingSince: null })
        .where(and(eq(webhookEndpoints.id, endpoint.id), sql`${webhookEndpoints.failingSince} is not null`));
      outcome = 'succeeded';
    } else {
      const gone = result.statusCode === 410;
      const delay = gone ? null : nextDelay(tuning.scheduleMs, attemptNo, result.retryAfterMs);
      const due = delay === null ? null : new Date(doneAt.getTime() + delay);
      await db.update(webhookDeliveries)
        .set({ status: due ? 'pending' : 'failed', attempts: attemptNo, lastAttemptAt: sentAt, nextAttemptAt: due })
        .where(eq(webhookDeliveries.id, deliveryId));
      if (due) await queue.enqueue([{ id: deliveryId, due }]);
      await endpointFailed(endpoint.id, sentAt, gone);
      outcome = due ? 'retrying' : 'failed';
    }
    core.metrics.webhookAttempts.inc({ outcome: ok ? 'success' : 'failure' });
    return outcome;
  };
}
