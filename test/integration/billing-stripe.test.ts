/**
 * Plans follow Stripe: Checkout → Pro, a cancelled subscription → free, past_due keeps Pro for
 * seven days. Stripe's events are verified, applied once, and read back from Stripe, so
 * replays and any order give the plan Stripe has. Real Postgres and Redis; Stripe is the
 * stand-in over HTTP.
 */
import { eq, sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripeEvents, tenants } from '../../server/db/schema/index';
import { stripeSignature } from '../../server/features/billing/stripe-standin/server';
import type { RunningServer } from '../../server/main';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { billingVars, FAST_BILLING, startStandin, STRIPE_KEY, STRIPE_WHSEC, waitFor, type RunningStandin } from './billing-support';
import { ConsoleClient } from './console-client';

let env: TestEnv;
let standin: RunningStandin;
let server: RunningServer;
let stripe: Stripe;

beforeAll(async () => {
  env = await createTestEnv('billstripe');
  standin = await startStandin();
  server = await env.start(billingVars(standin), { billing: FAST_BILLING });
  await standin.setWebhookUrl(`${server.url}/v1/billing/stripe-webhook`);
  const base = new URL(standin.url);
  stripe = new Stripe(STRIPE_KEY, { host: base.hostname, port: Number(base.port), protocol: 'http' });
});
afterAll(async () => {
  await env?.dispose();
  await standin?.close();
});

async function owner(label: string) {
  const c = new ConsoleClient(server.url);
  const me = await c.signUp(`${label}-${Math.random().toString(36).slice(2, 8)}@example.com`, undefined, `${label} org`);
  return { c, tenantId: me.tenants[0]!.id };
}

async function tenantRow(tenantId: string) {
  const [row] = await server.core.db.select().from(tenants).where(eq(tenants.id, tenantId));
  return row!;
}

/** Checkout as the owner's browser does it: the console's Upgrade, then the hosted page's Subscribe. */
async function upgrade(c: ConsoleClient, tenantId: string) {
  const r = await c.post(`/tenants/${tenantId}/billing/checkout`);
  expect(r.status).toBe(200);
  const paid = await fetch(`${r.body.url}`, { method: 'POST', redirect: 'manual' });
  expect(paid.status).toBe(303);
  expect(paid.headers.get('location')).toBe(`${server.url}/console/t/${tenantId}/billing?checkout=success`);
  const row = await waitFor('the plan to become pro', async () => {
    const t = await tenantRow(tenantId);
    return t.plan === 'pro' && t.billingStatus === 'active' ? t : null;
  });
  return row;
}

async function checkoutPaid(c: ConsoleClient, tenantId: string) {
  const r = await c.post(`/tenants/${tenantId}/billing/checkout`);
  await fetch(r.body.url, { method: 'POST', redirect: 'manual' });
}

/** Runs `fn` while Stripe has no endpoint to send to, and answers the events it caused (kept, unsent). */
async function unsent(fn: (since: number) => Promise<unknown>) {
  await standin.setWebhookUrl(null);
  const since = (await standin.events()).length;
  try {
    await fn(since);
  } finally {
    await standin.setWebhookUrl(`${server.url}/v1/billing/stripe-webhook`);
  }
  return (await standin.events()).slice(since);
}

async function postEvent(body: string, signature?: string) {
  const res = await fetch(`${server.url}/v1/billing/stripe-webhook`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(signature ? { 'stripe-signature': signature } : {}) }, body,
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe('Checkout, the portal and subscription states', () => {
  it('Upgrade: one customer per tenant, the subscription carries the tenant, the plan becomes pro with the Pro limits', async () => {
    const { c, tenantId } = await owner('up');
    const before = await c.get(`/tenants/${tenantId}/billing`);
    expect(before.body).toMatchObject({ plan: 'free', limit: 500, activeUsers: 0, status: null, invoices: [] });

    const row = await upgrade(c, tenantId);
    expect(row.stripeCustomerId).toMatch(/^cus_/);
    const sub = await stripe.subscriptions.retrieve(row.stripeSubscriptionId!);
    expect(sub.metadata.tenant_id).toBe(tenantId);
    expect(sub.customer).toBe(row.stripeCustomerId);
    expect(sub.items.data.map((i) => i.price.id).sort()).toEqual(['price_pro_mau', 'price_pro_monthly']);

    const after = await c.get(`/tenants/${tenantId}/billing`);
    expect(after.body).toMatchObject({ plan: 'pro', status: 'active', limit: null });
    expect(after.body.invoices).toHaveLength(1);
    expect(after.body.invoices[0]).toMatchObject({ status: 'paid', total: 2900, currency: 'usd' });
    await waitFor('all three events applied', async () => (await server.core.db.$count(stripeEvents)) >= 3);

    // Pro again is refused (Manage is the way); the portal opens on the same customer.
    expect((await c.post(`/tenants/${tenantId}/billing/checkout`)).body.error.code).toBe('conflict');
    const portal = await c.post(`/tenants/${tenantId}/billing/portal`);
    expect(portal.status).toBe(200);
    expect(portal.body.url).toContain(standin.url);
    const customers = await stripe.customers.retrieve(row.stripeCustomerId!);
    expect(customers.id).toBe(row.stripeCustomerId);
  });

  it('customer.subscription.deleted drops the tenant to free', async () => {
    const { c, tenantId } = await owner('down');
    const row = await upgrade(c, tenantId);
    // The owner cancels in the Customer Portal (its page's Cancel button).
    const portal = await c.post(`/tenants/${tenantId}/billing/portal`);
    const cancelled = await fetch(`${portal.body.url}/cancel/${row.stripeSubscriptionId}`, { method: 'POST', redirect: 'manual' });
    expect(cancelled.status).toBe(303);
    await waitFor('the plan to drop to free', async () => (await tenantRow(tenantId)).plan === 'free');
    expect(await tenantRow(tenantId)).toMatchObject({ billingStatus: 'canceled', stripeCustomerId: row.stripeCustomerId });
    expect((await c.get(`/tenants/${tenantId}/billing`)).body).toMatchObject({ plan: 'free', limit: 500, status: 'canceled' });
  });

  it('past_due keeps Pro for seven days of grace, then counts as free; a paid renewal restores it', async () => {
    const { c, tenantId } = await owner('grace');
    const row = await upgrade(c, tenantId);
    await standin.renew(row.stripeSubscriptionId!, 'failed');
    await waitFor('past_due recorded', async () => (await tenantRow(tenantId)).billingStatus === 'past_due');
    const during = (await c.get(`/tenants/${tenantId}/billing`)).body;
    expect(during).toMatchObject({ plan: 'pro', status: 'past_due', limit: null });
    const graceEnds = Date.parse(during.graceEndsAt);
    const since = (await tenantRow(tenantId)).pastDueSince!.getTime();
    expect(graceEnds - since).toBe(7 * 24 * 3600_000);

    // A second failure event doesn't restart the grace period.
    await standin.renew(row.stripeSubscriptionId!, 'failed');
    await waitFor('the second failure applied', async () => (await standin.events()).filter((e) => e.type === 'invoice.payment_failed').length === 2
      && (await server.core.db.$count(stripeEvents, sql`type = 'invoice.payment_failed'`)) >= 2);
    expect((await tenantRow(tenantId)).pastDueSince!.getTime()).toBe(since);

    // Eight days later (the clock is the recorded start of the grace period).
    await server.core.db.update(tenants).set({ pastDueSince: new Date(Date.now() - 8 * 24 * 3600_000) }).where(eq(tenants.id, tenantId));
    expect((await c.get(`/tenants/${tenantId}/billing`)).body).toMatchObject({ plan: 'free', status: 'past_due', limit: 500, graceEndsAt: null });

    await standin.renew(row.stripeSubscriptionId!, 'paid');
    await waitFor('active again', async () => (await tenantRow(tenantId)).billingStatus === 'active');
    expect(await tenantRow(tenantId)).toMatchObject({ plan: 'pro', pastDueSince: null });
  });
});

describe('the Stripe webhook endpoint', () => {
  it('refuses a bad, missing or stale signature with 400 and changes nothing', async () => {
    const { tenantId } = await owner('sig');
    const forged = JSON.stringify({
      id: 'evt_forged_1', object: 'event', type: 'customer.subscription.created', created: Math.floor(Date.now() / 1000),
      data: { object: { id: 'sub_forged', object: 'subscription', status: 'active', customer: 'cus_forged', metadata: { tenant_id: tenantId } } },
    });
    const bad = await postEvent(forged, stripeSignature('whsec_not_the_secret', forged));
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('bad_request');
    expect((await postEvent(forged)).status).toBe(400);
    const stale = await postEvent(forged, stripeSignature(STRIPE_WHSEC, forged, Math.floor(Date.now() / 1000) - 301));
    expect(stale.status).toBe(400);
    expect(stale.body.error.message).toMatch(/tolerance/i);
    // The right secret over other bytes than the signed ones.
    const tampered = await postEvent(forged.replace('active', 'trialing'), stripeSignature(STRIPE_WHSEC, forged));
    expect(tampered.status).toBe(400);
    expect(await tenantRow(tenantId)).toMatchObject({ plan: 'free', billingStatus: null, stripeCustomerId: null });
    expect(await server.core.db.$count(stripeEvents, eq(stripeEvents.id, 'evt_forged_1'))).toBe(0);
  });

  it('a replayed event answers 200 and changes nothing', async () => {
    const { c, tenantId } = await owner('replay');
    const row = await upgrade(c, tenantId);
    const created = (await standin.events()).find((e) => e.type === 'customer.subscription.created' && e.data.object.id === row.stripeSubscriptionId)!;
    // Stripe's deliveries run side by side: wait until this one has been applied once.
    await waitFor('the first delivery applied', async () => (await server.core.db.$count(stripeEvents, eq(stripeEvents.id, created.id))) === 1);
    // Put the tenant somewhere the old event would move it from, had it been applied again.
    await server.core.db.update(tenants).set({ plan: 'custom', mauLimit: 7 }).where(eq(tenants.id, tenantId));
    const body = JSON.stringify(created);
    const again = await postEvent(body, stripeSignature(STRIPE_WHSEC, body));
    expect(again).toMatchObject({ status: 200, body: { received: true, applied: false } });
    expect(await tenantRow(tenantId)).toMatchObject({ plan: 'custom', mauLimit: 7 });
    expect(await server.core.db.$count(stripeEvents, eq(stripeEvents.id, created.id))).toBe(1);
  });

  it('events in any order leave the state Stripe has now', async () => {
    const { c, tenantId } = await owner('order');
    const pile = await unsent(async (since) => {
      await checkoutPaid(c, tenantId);
      const subId = (await standin.events()).slice(since).find((e) => e.type === 'customer.subscription.created')!.data.object.id as string;
      await stripe.subscriptions.cancel(subId);
    });
    expect(pile.map((e) => e.type)).toEqual(['customer.subscription.created', 'invoice.paid', 'checkout.session.completed', 'customer.subscription.deleted']);
    // Newest first: the deletion arrives before the creation it ends.
    for (const e of [...pile].reverse()) {
      const body = JSON.stringify(e);
      expect((await postEvent(body, stripeSignature(STRIPE_WHSEC, body))).status).toBe(200);
    }
    expect(await tenantRow(tenantId)).toMatchObject({ plan: 'free', billingStatus: 'canceled' });
    expect((await tenantRow(tenantId)).stripeCustomerId).toMatch(/^cus_/);
  });

  it('a Stripe outage while reading back answers 503 and forgets the event, so Stripe\'s retry applies it', async () => {
    const { c, tenantId } = await owner('outage');
    const pile = await unsent(() => checkoutPaid(c, tenantId));
    const created = pile.find((e) => e.type === 'customer.subscription.created')!;
    await standin.inject({ path: '/v1/subscriptions/', method: 'GET', kind: 'error', status: 503, times: 4 });
    const body = JSON.stringify(created);
    const first = await postEvent(body, stripeSignature(STRIPE_WHSEC, body));
    expect(first.status).toBe(503);
    expect(await server.core.db.$count(stripeEvents, eq(stripeEvents.id, created.id))).toBe(0);
    expect((await tenantRow(tenantId)).plan).toBe('free');
    await standin.clearFaults();
    await standin.resend(created.id);
    await waitFor('applied on the retry', async () => (await tenantRow(tenantId)).plan === 'pro');
  });
});

describe('who may change billing', () => {
  it('only owners: admins and viewers neither see billing nor start Checkout or the portal', async () => {
    const { c, tenantId } = await owner('roles');
    for (const role of ['admin', 'viewer'] as const) {
      const inv = await c.post(`/tenants/${tenantId}/invitations`, { role });
      const m = new ConsoleClient(server.url);
      await m.signUp(`${role}-${Math.random().toString(36).slice(2, 8)}@example.com`);
      expect((await m.post('/invitations/accept', { token: new URL(inv.body.url).hash.slice(1) })).status).toBe(200);
      expect((await m.get(`/tenants/${tenantId}/billing`)).status).toBe(403);
      const checkout = await m.post(`/tenants/${tenantId}/billing/checkout`);
      expect(checkout.status).toBe(403);
      expect(checkout.body.error.code).toBe('forbidden');
      expect((await m.post(`/tenants/${tenantId}/billing/portal`)).status).toBe(403);
    }
    // Nothing reached Stripe for them: the tenant still has no customer.
    expect((await tenantRow(tenantId)).stripeCustomerId).toBeNull();
  });
});
