import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeStandin, type RunningStandin } from './server';

/** The stand-in as the official SDK sees it: Stripe's shapes, errors and rules, over HTTP. */
let standin: RunningStandin;
let stripe: Stripe;
const KEY = 'sk_test_standin_unit';

beforeAll(async () => {
  standin = await startStripeStandin({ apiKey: KEY, webhookSecret: 'whsec_unit', prices: [{ id: 'price_a', unitAmount: 500, usageType: 'licensed' }, { id: 'price_m', unitAmount: 1, usageType: 'metered' }] });
  const u = new URL(standin.url);
  stripe = new Stripe(KEY, { host: u.hostname, port: Number(u.port), protocol: 'http', maxNetworkRetries: 0 });
});
afterAll(() => standin.close());

describe('the Stripe stand-in', () => {
  it('refuses a wrong key with 401 authentication error shapes', async () => {
    const u = new URL(standin.url);
    const wrong = new Stripe('sk_test_wrong_key_1234', { host: u.hostname, port: Number(u.port), protocol: 'http', maxNetworkRetries: 0 });
    const err = await wrong.customers.create({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect((err as Stripe.errors.StripeError).message).toMatch(/^Invalid API Key provided: sk_test_\*+1234$/);
  });

  it('answers an unknown object with 404 resource_missing and an unknown price with the param named', async () => {
    const missing = await stripe.subscriptions.retrieve('sub_nope').catch((e: unknown) => e as Stripe.errors.StripeError);
    expect(missing).toMatchObject({ type: 'StripeInvalidRequestError', statusCode: 404, code: 'resource_missing', param: 'id' });
    const c = await stripe.customers.create({ email: 'x@example.com' });
    const bad = await stripe.checkout.sessions.create({ mode: 'subscription', customer: c.id, success_url: 'http://x/ok', line_items: [{ price: 'price_zzz', quantity: 1 }] }).catch((e: unknown) => e as Stripe.errors.StripeError);
    expect(bad).toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'line_items[0][price]' });
    // A metered price takes no quantity.
    const metered = await stripe.checkout.sessions.create({ mode: 'subscription', customer: c.id, success_url: 'http://x/ok', line_items: [{ price: 'price_m', quantity: 1 }] }).catch((e: unknown) => e as Stripe.errors.StripeError);
    expect(metered).toMatchObject({ statusCode: 400, param: 'line_items[0][quantity]' });
  });

  it('replays an idempotent POST and refuses the key with other parameters', async () => {
    const a = await stripe.customers.create({ email: 'same@example.com' }, { idempotencyKey: 'idem-1' });
    const b = await stripe.customers.create({ email: 'same@example.com' }, { idempotencyKey: 'idem-1' });
    expect(b.id).toBe(a.id);
    const other = await stripe.customers.create({ email: 'other@example.com' }, { idempotencyKey: 'idem-1' }).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
  });

  it('keeps one v1 meter event per identifier, refusing a repeat with 400 and Stripe-Should-Retry: false', async () => {
    const params = { event_name: 'wsl_active_user', payload: { stripe_customer_id: 'cus_1', value: '1' }, identifier: 'mau_unit_1' };
    const first = await stripe.billing.meterEvents.create(params);
    expect(first).toMatchObject({ object: 'billing.meter_event', identifier: 'mau_unit_1', payload: { value: '1' } });
    const again = await stripe.billing.meterEvents.create(params).catch((e: unknown) => e as Stripe.errors.StripeError);
    expect(again).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', message: 'An event already exists with identifier mau_unit_1.' });
    expect((again as Stripe.errors.StripeError).headers?.['stripe-should-retry']).toBe('false');
    const old = await stripe.billing.meterEvents.create({ ...params, identifier: 'mau_unit_2', timestamp: Math.floor(Date.now() / 1000) - 36 * 86400 }).catch((e: unknown) => e as Stripe.errors.StripeError);
    expect(old).toMatchObject({ statusCode: 400, param: 'timestamp' });
    expect((await standin.meterEvents()).map((e) => e.identifier)).toEqual(['mau_unit_1']);
  });

  it('takes meter events on the v2 stream with a session token: batches of up to 100, repeats and stale events dropped as Stripe reports them', async () => {
    const session = await stripe.v2.billing.meterEventSession.create();
    expect(session).toMatchObject({ object: 'v2.billing.meter_event_session', livemode: false });
    expect(Date.parse(session.expires_at) - Date.parse(session.created)).toBe(15 * 60_000);
    const ev = (identifier: string, timestamp = new Date().toISOString()) => ({ event_name: 'wsl_active_user', identifier, timestamp, payload: { stripe_customer_id: 'cus_1', value: '1' } });
    const withToken = { apiKey: session.authentication_token };
    await stripe.v2.billing.meterEventStream.create({ events: [ev('mau_stream_1'), ev('mau_stream_2'), ev('mau_stream_1')] }, withToken);
    await stripe.v2.billing.meterEventStream.create({ events: [ev('mau_stream_3', new Date(Date.now() - 36 * 86_400_000).toISOString())] }, withToken);
    expect((await standin.meterEvents()).map((e) => e.identifier).filter((i) => String(i).startsWith('mau_stream'))).toEqual(['mau_stream_1', 'mau_stream_2']);
    expect(await standin.meterEventErrors()).toEqual([{ identifier: 'mau_stream_1', code: 'duplicate_meter_event' }, { identifier: 'mau_stream_3', code: 'timestamp_out_of_range' }]);

    const tooMany = await stripe.v2.billing.meterEventStream.create({ events: Array.from({ length: 101 }, (_, i) => ev(`mau_many_${i}`)) }, withToken).catch((e: unknown) => e);
    expect(tooMany).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    const secretKeyOnStream = await stripe.v2.billing.meterEventStream.create({ events: [ev('mau_stream_4')] }).catch((e: unknown) => e);
    expect(secretKeyOnStream).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    await standin.expireMeterSessions();
    const expired = await stripe.v2.billing.meterEventStream.create({ events: [ev('mau_stream_4')] }, withToken).catch((e: unknown) => e);
    expect(expired).toBeInstanceOf(Stripe.errors.TemporarySessionExpiredError);
    expect((await standin.meterEvents()).some((e) => e.identifier === 'mau_stream_4' || String(e.identifier).startsWith('mau_many'))).toBe(false);
  });

  it('signs events the way stripe.webhooks.constructEvent verifies them', async () => {
    const received: Array<{ body: string; sig: string }> = [];
    const { createServer } = await import('node:http');
    const srv = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        received.push({ body, sig: String(req.headers['stripe-signature']) });
        res.end('ok');
      });
    });
    await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
    try {
      await standin.setWebhookUrl(`http://127.0.0.1:${(srv.address() as { port: number }).port}/`);
      const c = await stripe.customers.create({});
      const s = await stripe.checkout.sessions.create({ mode: 'subscription', customer: c.id, success_url: 'http://x/ok', line_items: [{ price: 'price_a', quantity: 1 }] });
      await fetch(s.url!, { method: 'POST', redirect: 'manual' });
      await expect.poll(() => received.length).toBe(3);
      for (const r of received) {
        const event = stripe.webhooks.constructEvent(r.body, r.sig, 'whsec_unit');
        expect(event.object).toBe('event');
      }
      expect(() => stripe.webhooks.constructEvent(received[0]!.body, received[0]!.sig, 'whsec_other')).toThrow(Stripe.errors.StripeSignatureVerificationError);
    } finally {
      await standin.setWebhookUrl(null);
      srv.close();
    }
  });
});
