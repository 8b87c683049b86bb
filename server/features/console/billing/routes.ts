import { ApiError } from '../../../lib/errors';
import { requireVerified, type ConsoleRouter, type TenantCtx } from '../auth/guard';
import type { Db } from '../../../db/client';
import type { ConsolePorts } from '../ports';
import { audit, consoleActor } from '../../audit/index';

/**
 * The Billing page's API. Owners only, reading included: plan, usage and invoices are the
 * owner's business, and viewers and admins see no billing at all. With billing off, there is
 * no billing to show (404), and `GET /billing` tells the SPA to hide the page.
 */
export function mountBillingRoutes(r: ConsoleRouter, deps: { db: Db; billing: ConsolePorts['billing']; publicUrl: () => string }): void {
  const { billing } = deps;
  const returnUrl = (tenantId: string) => `${deps.publicUrl()}/console/t/${encodeURIComponent(tenantId)}/billing`;

  function ownerWithBilling(ctx: TenantCtx) {
    if (ctx.role !== 'owner') throw new ApiError('forbidden', 'Only an owner can see and change billing');
    if (!billing.enabled) throw new ApiError('not_found', 'Billing is not enabled on this server');
    return billing;
  }

  r.account('get', '/billing', async () => ({ enabled: billing.enabled }));

  r.read('/tenants/:tenantId/billing', async (_req, _res, ctx) => {
    const b = ownerWithBilling(ctx);
    const [status, days] = await Promise.all([b.status(ctx.tenantId), b.byDay(ctx.tenantId)]);
    // Invoices come from Stripe: when it is down the page still shows the plan and usage.
    const invoices = await b.invoices(ctx.tenantId).catch((err: unknown) => {
      if (err instanceof ApiError && err.code === 'unavailable') return null;
      throw err;
    });
    return { ...status, days, invoices };
  });

  r.write('post', '/tenants/:tenantId/billing/checkout', 'owner', async (req, _res, ctx) => {
    requireVerified(ctx);
    const session = await ownerWithBilling(ctx).checkout(ctx.tenantId, returnUrl(ctx.tenantId));
    await audit(deps.db, consoleActor(req, ctx.account), { tenantId: ctx.tenantId, action: 'billing.checkout_started', target: { type: 'tenant', id: ctx.tenantId } });
    return session;
  });

  r.write('post', '/tenants/:tenantId/billing/portal', 'owner', async (req, _res, ctx) => {
    requireVerified(ctx);
    const session = await ownerWithBilling(ctx).portal(ctx.tenantId, returnUrl(ctx.tenantId));
    await audit(deps.db, consoleActor(req, ctx.account), { tenantId: ctx.tenantId, action: 'billing.portal_opened', target: { type: 'tenant', id: ctx.tenantId } });
    return session;
  });
}
