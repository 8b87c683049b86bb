import type { Job } from 'bullmq';
import type { Core, Feature } from '../../core';
import { createIdempotency } from '../../lib/idempotency';
import { createPeriodic } from '../../lib/periodic';
import type { AppsStore } from '../apps/store';
import { DEFAULT_BREAKER, type BreakerTuning } from './breaker';
import { createDeliverer, type DeliveryTuning, type PayloadEnricher } from './deliverer';
import { createOutbox, type WebhookOutbox } from './outbox';
import { createDeliveryQueue, QUEUE, type DeliveryJob } from './queue';
import { webhooksRouter } from './routes';
import { DEFAULT_SCHEDULE_MS } from './schedule';
import { createWebhookService, type WebhookLimits, type WebhookService } from './service';
import { createWebhookStore } from './store';
import { createRetention } from './retention';
import { createSweeper } from './sweeper';

export type { WebhookOutbox } from './outbox';
export type { WebhookLimits, WebhookService } from './service';
export type { WebhookScope } from './store';
export { EVENT_TYPES, type EventType, type OutboxMessage } from './events';

export interface WebhooksOptions {
  apps: AppsStore;
  /** Default: the configured cap for every tenant (`configuredLimits`). */
  limits?: WebhookLimits;
  /** Waits between attempts; default Svix's schedule (5 s … 10 h). Tests and benches pass short ones. */
  scheduleMs?: number[];
  /** Deadline over one attempt's whole exchange; default 15 s. */
  timeoutMs?: number;
  /** Deadline to resolve, connect and finish TLS; default 5 s. */
  connectTimeoutMs?: number;
  /** Attempts one worker process runs at once against one endpoint; default 8. */
  endpointConcurrency?: number;
  /** When an endpoint's breaker opens and how long it pauses; see breaker.ts. */
  breaker?: Partial<BreakerTuning>;
  /** How long a claimed attempt is reserved before the sweeper may hand it to another worker. */
  leaseMs?: number;
  sweepIntervalMs?: number;
  /** Default 5 days. */
  disableAfterMs?: number;
  concurrency?: number;
  /** Fields added at delivery time (the phone number): see deliverer.ts. */
  enrich?: PayloadEnricher;
}

/** Tuning a deployment (or a test) can pass through the composition root; everything but the ports. */
export type WebhooksTuning = Omit<WebhooksOptions, 'apps' | 'limits' | 'enrich'>;

/** The same cap for every tenant, from WEBHOOK_MAX_ENDPOINTS: what applies until a billing plan says otherwise. */
export function configuredLimits(config: Pick<Core['config'], 'webhookMaxEndpoints'>): WebhookLimits {
  return { endpointsPerApp: async () => config.webhookMaxEndpoints };
}

export function createWebhooksFeature(core: Core, opts: WebhooksOptions): { feature: Feature; outbox: WebhookOutbox; service: WebhookService } {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const tuning: DeliveryTuning = {
    scheduleMs: opts.scheduleMs ?? DEFAULT_SCHEDULE_MS,
    timeoutMs,
    connectTimeoutMs: opts.connectTimeoutMs ?? 5_000,
    leaseMs: opts.leaseMs ?? timeoutMs + 45_000,
    disableAfterMs: opts.disableAfterMs ?? 5 * 86_400_000,
    endpointConcurrency: opts.endpointConcurrency ?? 8,
    breaker: { ...DEFAULT_BREAKER, ...opts.breaker },
  };
  const queue = createDeliveryQueue(core);
  const store = createWebhookStore(core);
  const service = createWebhookService(core, store, queue, opts.limits ?? configuredLimits(core.config));
  const outbox = createOutbox(queue);
  const deliver = createDeliverer(core, queue, tuning, opts.enrich);
  const sweeper = createSweeper(core, queue, { intervalMs: opts.sweepIntervalMs ?? 15_000, batch: 5000 });
  const retention = createRetention(core, { retentionMs: core.config.webhookRetentionDays * 86_400_000, intervalMs: 3_600_000, batch: 5000 });
  const idempotency = createIdempotency(core.db, core.config.masterKey);
  // Every route's keys (OIDC clients' too) share the table; the webhook worker prunes it.
  const pruneKeys = createPeriodic(() => idempotency.prune(), 3_600_000, (err) => core.logger.warn({ err }, 'idempotency key pruning failed; next run retries'));
  let workerStarted = false;

  const feature: Feature = {
    name: 'webhooks',
    router: webhooksRouter({ apps: opts.apps, service, idempotency }),
    async start() {
      const worker = core.jobs.worker(QUEUE, async (job: Job<DeliveryJob>) => deliver(job.data.deliveryId, job.data.endpointId), {
        // Attempts mostly wait on the network. Room for 8 endpoints that hang, at their 8 each,
        // and as many again for everyone else; the breaker pauses endpoints that keep failing.
        concurrency: opts.concurrency ?? 128,
      });
      if (!worker) return; // API-only process: enqueues, never delivers
      worker.on('failed', (job, err) => core.logger.warn({ err, job: job?.id }, 'webhook delivery job failed; the sweeper will retry it'));
      workerStarted = true;
      sweeper.start();
      retention.start();
      pruneKeys.start();
    },
    async stop() {
      if (workerStarted) await Promise.all([sweeper.stop(), retention.stop(), pruneKeys.stop()]);
    },
  };
  return { feature, outbox, service };
}
