import express, { Router } from 'express';
import { requireSecretKey, secretKeyAuth } from '../apps/auth';
import type { AppsStore } from '../apps/store';
import type { BillingService } from './service';

/**
 * `POST /v1/billing/stripe-webhook` (Stripe's events; the raw body is what was signed) and
 * `GET /v1/usage` (a tenant backend's view of this month's MAU, with any of its secret keys).
 */
export function billingRoutes(deps: {
  apps: AppsStore;
  service: BillingService;
  stripeEvents: { handle(raw: Buffer, signature: string | undefined): Promise<unknown> } | null;
}): Router {
  const r = Router();
  if (deps.stripeEvents) {
    const events = deps.stripeEvents;
    r.post('/v1/billing/stripe-webhook', express.raw({ type: () => true, limit: '512kb' }), async (req, res) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      res.json(await events.handle(raw, req.get('stripe-signature')));
    });
  }
  r.get('/v1/usage', requireSecretKey(deps.apps), async (_req, res) => {
    res.json(await deps.service.usage(secretKeyAuth(res).app.tenantId));
  });
  return r;
}
