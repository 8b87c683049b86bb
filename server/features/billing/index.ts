import type { Core, Feature } from '../../core';
import type { Tx } from '../../db/client';
import type { AppsStore } from '../apps/store';
import { createMeterSender, type MeterSenderTuning } from './meter-sender';
import { activityCtes } from './metering';
import { planInForce } from './plans';
import { createBillingRetention } from './retention';
import { billingRoutes } from './routes';
import { createBillingService, type BillingService } from './service';
import { createBillingStore } from './store';
import { createStripeClient } from './stripe-client';
import { createStripeEventHandler } from './stripe-events';

export type { BillingService } from './service';

/**
 * The webhooks feature's per-tenant caps (its WebhookLimits port): with billing on, the
 * tenant's plan decides (free 3 endpoints per app, pro and custom 20); off, `fallback` does.
 * Needs only the tenants table, so main.ts can build it before the webhooks feature.
 */
export function billingLimits(core: Core, fallback: { endpointsPerApp(tenantId: string): Promise<number> }) {
  if (!core.config.billing) return fallback;
  const store = createBillingStore(core.db);
  return {
    async endpointsPerApp(tenantId: string): Promise<number> {
      const row = await store.tenant(tenantId);
      return row ? planInForce(row, { billingOn: true, freeMau: core.config.planFreeMau }).endpointsPerApp : fallback.endpointsPerApp(tenantId);
    },
  };
}

/** The slice of the webhooks outbox billing writes `billing.quota_warning` through. */
export interface BillingOutboxPort {
  record(tx: Tx, msg: { tenantId: string; appId: string; mode: 'live'; type: 'billing.quota_warning'; data: Record<string, unknown> }): Promise<string>;
  dispatch(messageIds: string[]): Promise<void>;
}

export interface BillingTuning {
  meter?: MeterSenderTuning;
  /** Bound on each Stripe request (default 10 s). */
  stripeTimeoutMs?: number;
  /** How long scans trust a tenant's cached plan and MAU count (default 10 s). */
  quotaCacheMs?: number;
}

/**
 * Plans, MAU metering and Stripe (DESIGN §7). Billing is on when STRIPE_SECRET_KEY is set;
 * off, every tenant is unlimited, MAU is still counted, and nothing talks to Stripe.
 */
export function createBillingFeature(core: Core, deps: { apps: AppsStore; outbox: BillingOutboxPort; tuning?: BillingTuning }): {
  feature: Feature;
  service: BillingService;
  /** For the login's statement (sessions' ActivityPort). */
  activity: { statementCtes: ReturnType<typeof activityCtes> };
} {
  const cfg = core.config.billing;
  const store = createBillingStore(core.db);
  const stripe = cfg ? createStripeClient(cfg, { timeoutMs: deps.tuning?.stripeTimeoutMs }) : null;
  const service = createBillingService({
    core, store, stripe, quotaCacheMs: deps.tuning?.quotaCacheMs,
    warnings: {
      async send(tenantId, data) {
        const appIds = await store.appIds(tenantId);
        const ids = await core.db.transaction(async (tx) => Promise.all(appIds.map((appId) =>
          deps.outbox.record(tx, { tenantId, appId, mode: 'live', type: 'billing.quota_warning', data }))));
        await deps.outbox.dispatch(ids);
      },
    },
  });
  const stripeEvents = stripe && cfg
    ? createStripeEventHandler({ db: core.db, store, stripe, webhookSecret: cfg.webhookSecret, logger: core.logger, onPlanChanged: service.forgetQuota })
    : null;
  const sender = stripe && cfg && core.jobs.runsWorkers
    ? createMeterSender({ core, store, stripe, eventName: cfg.meterEvent, tuning: deps.tuning?.meter })
    : null;
  // Whether billing is on or not: rows written while it was on still age out.
  const retention = core.jobs.runsWorkers ? createBillingRetention(core, { intervalMs: 3_600_000, batch: 5000 }) : null;
  return {
    service,
    activity: { statementCtes: activityCtes(Boolean(cfg)) },
    feature: {
      name: 'billing',
      router: billingRoutes({ apps: deps.apps, service, stripeEvents }),
      async start() {
        sender?.start();
        retention?.start();
      },
      async stop() {
        await Promise.all([sender?.stop(), retention?.stop()]);
      },
    },
  };
}
