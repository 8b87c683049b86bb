import { lte } from 'drizzle-orm';
import type { Core } from '../../core';
import { createPeriodic } from '../../lib/periodic';
import { webhookDeliveries } from '../../db/schema/index';
import type { DeliveryQueue } from './queue';

/**
 * Runs on every worker process. Finds pending deliveries already due and enqueues them
 * again: jobs Redis lost, dispatches that failed after commit, claims left by a worker
 * that died mid-request. Safe on several processes at once: the job id of a due attempt
 * is the same everywhere, and the claim in the deliverer lets only one send it.
 */
export function createSweeper(core: Core, queue: DeliveryQueue, opts: { intervalMs: number; batch: number }) {
  async function sweep(): Promise<number> {
    return queue.enqueueWhere(lte(webhookDeliveries.nextAttemptAt, new Date()), opts.batch);
  }

  const periodic = createPeriodic(
    async () => {
      const n = await sweep();
      if (n) core.logger.debug({ count: n }, 'webhook sweeper enqueued due deliveries');
    },
    opts.intervalMs,
    (err) => core.logger.warn({ err }, 'webhook sweep failed'),
  );
  return { sweep, ...periodic };
}
