import { and, eq, type SQL } from 'drizzle-orm';
import type { Queue } from 'bullmq';
import type { Core } from '../../core';
import { webhookDeliveries } from '../../db/schema/index';

export const QUEUE = 'webhooks';

export interface DeliveryJob {
  deliveryId: string;
  /** Lets a worker whose slots for this endpoint are full hold the delivery without loading it. */
  endpointId?: string;
}

/**
 * BullMQ only carries "attempt delivery X at time T"; Postgres holds the truth. The job id
 * is `<delivery id>-<due ms>`: every instance that enqueues the same due attempt (dispatch,
 * several sweepers) produces the same id, so BullMQ keeps one job; a new due time (a retry,
 * a replay, an expired claim after a crash) gets a new id even if a dead job lingers.
 */
export function jobId(deliveryId: string, due: Date): string {
  return `${deliveryId}-${due.getTime()}`;
}

export interface DeliveryQueue {
  enqueue(items: Array<{ id: string; due: Date; endpointId?: string }>): Promise<void>;
  /** Enqueue every pending delivery matching `where`. */
  enqueueWhere(where: SQL | undefined, limit?: number): Promise<number>;
}

/** Enqueueing must not hang a request when Redis is down: BullMQ would queue commands forever. */
const ENQUEUE_TIMEOUT_MS = 2_000;

export function createDeliveryQueue(core: Core): DeliveryQueue {
  let queue: Queue | undefined;
  const q = () => (queue ??= core.jobs.queue(QUEUE));
  const enqueue = async (items: Array<{ id: string; due: Date; endpointId?: string }>) => {
    if (!items.length) return;
    const now = Date.now();
    const jobs = items.map((d) => ({
      name: 'deliver',
      data: { deliveryId: d.id, endpointId: d.endpointId } satisfies DeliveryJob,
      opts: { jobId: jobId(d.id, d.due), delay: Math.max(0, d.due.getTime() - now), removeOnComplete: true, removeOnFail: 1000 },
    }));
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        q().addBulk(jobs),
        new Promise((_, fail) => { timer = setTimeout(() => fail(new Error('enqueue timed out')), ENQUEUE_TIMEOUT_MS); }),
      ]);
    } catch (err) {
      core.logger.warn({ err, count: items.length }, 'webhook enqueue failed; the sweeper will retry');
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    enqueue,
    async enqueueWhere(where, limit = 5000) {
      const rows = await core.db
        .select({ id: webhookDeliveries.id, due: webhookDeliveries.nextAttemptAt, endpointId: webhookDeliveries.endpointId })
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.status, 'pending'), where))
        .limit(limit);
      const items = rows.filter((r): r is { id: string; due: Date; endpointId: string } => r.due !== null);
      await enqueue(items);
      return items.length;
    },
  };
}
