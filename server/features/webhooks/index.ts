import type { Job } from 'bullmq';
import type { Core, Feature } from '../../core';
import type { AppsStore } from '../apps/store';
import { createDeliverer, type DeliveryTuning } from './deliverer';
import { createOutbox, type WebhookOutbox } from './outbox';
import { createDeliveryQueue, QUEUE, type DeliveryJob } from './queue';
import { webhooksRouter } from './routes';
import { DEFAULT_SCHEDULE_MS } from './schedule';
import { createWebhookService, type WebhookService } from './service';
import { createWebhookStore } from './store';
import { createRetention } from './retention';
import { createSweeper } from './sweeper';

export type { WebhookOutbox } from './outbox';
export type { WebhookService } from './service';
export { EVENT_TYPES, type EventType, type OutboxMessage } from './events';

export interface WebhooksOptions {
  apps: AppsStore;
  /** Waits between attempts; default Svix's schedule (5 s … 10 h). Tests and benches pass short ones. */
  scheduleMs?: number[];
  timeoutMs?: number;
  /** How long a claimed attempt is reserved before the sweeper may hand it to another worker. */
  leaseMs?: number;
  sweepIntervalMs?: number;
  /** Default 5 days. */
  disableAfterMs?: number;
  concurrency?: number;
}

/** Tuning a deployment (or a test) can pass through the composition root; everything but `apps`. */
export type WebhooksTuning = Omit<WebhooksOptions, 'apps'>;

export function createWebhooksFeature(core: Core, opts: WebhooksOptions): { feature: Feature; outbox: WebhookOutbox; service: WebhookService } {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const tuning: DeliveryTuning = {
    scheduleMs: opts.scheduleMs ?? DEFAULT_SCHEDULE_MS,
    timeoutMs,
    leaseMs: opts.leaseMs ?? timeoutMs + 45_000,
    disableAfterMs: opts.disableAfterMs ?? 5 * 86_400_000,
  };
  const queue = createDeliveryQueue(core);
  const store = createWebhookStore(core);
  const service = createWebhookService(core, store, queue);
  const outbox = createOutbox(queue);
  const deliver = createDeliverer(core, queue, tuning);
  const sweeper = createSweeper(core, queue, { intervalMs: opts.sweepIntervalMs ?? 15_000, batch: 5000 });
  const retention = createRetention(core, { retentionMs: core.config.webhookRetentionDays * 86_400_000, intervalMs: 3_600_000, batch: 5000 });
  let workerStarted = false;

  const feature: Feature = {
    name: 'webhooks',
    router: webhooksRouter({ apps: opts.apps, service }),
    async start() {
      const worker = core.jobs.worker(QUEUE, async (job: Job<DeliveryJob>) => deliver(job.data.deliveryId), {
        concurrency: opts.concurrency ?? 32,
      });
      if (!worker) return; // API-only process: enqueues, never delivers
      worker.on('failed', (job, err) => core.logger.warn({ err, job: job?.id }, 'webhook delivery job failed; the sweeper will retry it'));
      workerStarted = true;
      sweeper.start();
      retention.start();
    },
    async stop() {
      if (workerStarted) await Promise.all([sweeper.stop(), retention.stop()]);
    },
  };
  return { feature, outbox, service };
}
