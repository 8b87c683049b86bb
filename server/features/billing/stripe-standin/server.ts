import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { hostedPage } from './pages';

/**
 * A Stripe stand-in: the few endpoints billing uses, written from Stripe's API reference, on
 * its own port, for tests, benchmarks and staging (point STRIPE_API_BASE at it). Form-encoded
 * requests as the SDK sends them (JSON for API v2), Stripe's object and error shapes, idempotency
 * keys, meter events one at a time (v1) and in batches on the meter event stream (v2) with
 * `identifier` uniqueness, a hosted Checkout and Customer Portal page, events
 * signed as Stripe signs them (`Stripe-Signature: t=…,v1=…`) and delivered with retries, and
 * injected faults (5xx, hangs, answers lost after the work is done).
 */
export interface StandinPrice {
  id: string;
  /** In the currency's smallest unit; metered prices bill per use and start at 0. */
  unitAmount: number;
  usageType: 'licensed' | 'metered';
}

export interface StandinOptions {
  port?: number;
  host?: string;
  /** The secret key requests must carry. */
  apiKey: string;
  /** Events are signed with it (the endpoint's `whsec_…`). */
  webhookSecret: string;
  /** Where events are POSTed; settable later (the server under test learns its port after listen). None: events are kept, not sent. */
  webhookUrl?: string;
  prices: StandinPrice[];
  /** Delivery retries after a failed attempt (Stripe retries for three days; here quicker). */
  retryDelaysMs?: number[];
  /** How long a meter event session's token is valid (Stripe: 15 minutes). */
  meterSessionTtlMs?: number;
  /**
   * false: no API v2 meter event stream (404, as for any unknown URL), like Stripe-compatible
   * servers that only have v1 (stripe-mock): the sender must fall back to one event per request.
   */
  meterStream?: boolean;
}

export interface Fault {
  /** Matches requests whose path starts with this (e.g. /v2/billing/meter_event_stream). */
  path: string;
  method?: string;
  /**
   * error: answer `status` (default 500); hang: never answer; drop: do the work, then cut the
   * connection; stall: do the work, then never answer (the caller dies or times out waiting).
   */
  kind: 'error' | 'hang' | 'drop' | 'stall';
  status?: number;
  times: number;
}

type Obj = Record<string, any>;
export interface StripeEventRecord {
  id: string;
  type: string;
  created: number;
  data: { object: Obj };
  [k: string]: unknown;
}

export interface RunningStandin {
  url: string;
  close(): Promise<void>;
  /** Null: no endpoint, so events from now on are kept but not sent (resend() sends one). */
  setWebhookUrl(url: string | null): Promise<void>;
  inject(fault: Fault): Promise<void>;
  clearFaults(): Promise<void>;
  meterEvents(): Promise<Obj[]>;
  /** Stream events dropped while processed (Stripe's meter error report): `{ identifier, code }`. */
  meterEventErrors(): Promise<Obj[]>;
  /** Every meter event session token expires now (as 15 minutes passing would). */
  expireMeterSessions(): Promise<void>;
  events(): Promise<StripeEventRecord[]>;
  /** Sends an event again, freshly signed (as Stripe's "Resend" does). */
  resend(eventId: string): Promise<void>;
  /** A renewal: paid keeps the subscription active; failed makes it past_due (and sends Stripe's events). */
  renew(subscriptionId: string, outcome: 'paid' | 'failed'): Promise<void>;
  /** Requests received per "METHOD /path" (ids kept), to count calls. */
  requests(): Promise<string[]>;
}

const API_VERSION = '2026-10-28.endive';

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
}

class StripeHttpError extends Error {
  constructor(readonly status: number, readonly body: Obj, readonly headers: Record<string, string> = {}) {
    super(String(body.message));
  }
}

function invalid(message: string, extra: Obj = {}, status = 400): StripeHttpError {
  return new StripeHttpError(status, { type: 'invalid_request_error', message, ...extra });
}

function missing(kind: string, id: string, param = 'id'): StripeHttpError {
  return invalid(`No such ${kind}: '${id}'`, { code: 'resource_missing', param }, 404);
}

/** Stripe signs `${t}.${payload}` with HMAC-SHA256 under the whole endpoint secret, hex. */
export function stripeSignature(secret: string, payload: string, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${payload}`).digest('hex')}`;
}

function list(data: Obj[], url: string): Obj {
  return { object: 'list', data, has_more: false, url };
}

export async function startStripeStandin(opts: StandinOptions): Promise<RunningStandin> {
  const prices = new Map(opts.prices.map((p) => [p.id, p]));
  const customers = new Map<string, Obj>();
  const sessions = new Map<string, Obj>();
  const portalSessions = new Map<string, Obj>();
  const subscriptions = new Map<string, Obj>();
  const invoices = new Map<string, Obj>();
  const meterEvents: Obj[] = [];
  const meterIdentifiers = new Map<string, number>();
  const events: StripeEventRecord[] = [];
  const idempotent = new Map<string, { params: string; status: number; body: Obj }>();
  const requestLog: string[] = [];
  let faults: Fault[] = [];
  let webhookUrl = opts.webhookUrl;
  let url = '';
  const retryDelays = opts.retryDelaysMs ?? [200, 1000, 3000];
  const sessionTtlMs = opts.meterSessionTtlMs ?? 15 * 60_000;
  const pendingTimers = new Set<NodeJS.Timeout>();
  let invoiceNumber = 0;
  const now = () => Math.floor(Date.now() / 1000);

  // ---- events --------------------------------------------------------------------------
  /** To the endpoint configured when the event happened; retries go there too. */
  async function deliver(event: StripeEventRecord, target = webhookUrl, attempt = 0): Promise<void> {
    if (!target) return;
    const payload = JSON.stringify(event, null, 2);
    let ok = false;
    try {
      const res = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': stripeSignature(opts.webhookSecret, payload), 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
        body: payload,
        signal: AbortSignal.timeout(10_000),
      });
      ok = res.ok;
      await res.arrayBuffer().catch(() => {});
    } catch {
      ok = false;
    }
    if (ok || attempt >= retryDelays.length) return;
    const t = setTimeout(() => {
      pendingTimers.delete(t);
      void deliver(event, target, attempt + 1);
    }, retryDelays[attempt]);
    pendingTimers.add(t);
  }

  function emit(type: string, object: Obj): void {
    const event: StripeEventRecord = {
      id: newId('evt'), object: 'event', api_version: API_VERSION, created: now(),
      data: { object: structuredClone(object) }, livemode: false, pending_webhooks: 1,
      request: { id: null, idempotency_key: null }, type,
    };
    events.push(event);
    void deliver(event);
  }

  // ---- objects --------------------------------------------------------------------------
  function priceObject(id: string): Obj {
    const p = prices.get(id)!;
    return {
      id, object: 'price', active: true, currency: 'usd', livemode: false, type: 'recurring',
      unit_amount: p.unitAmount, recurring: { interval: 'month', interval_count: 1, usage_type: p.usageType },
    };
  }

  function createSubscription(customer: string, items: Array<{ price: string; quantity?: number }>, metadata: Obj): Obj {
    const start = now();
    const end = start + 30 * 86400;
    const id = newId('sub');
    const sub = {
      id, object: 'subscription', customer, status: 'active', metadata, livemode: false, created: start, start_date: start,
      cancel_at_period_end: false, canceled_at: null, ended_at: null, collection_method: 'charge_automatically', currency: 'usd',
      items: list(items.map((i) => ({
        id: newId('si'), object: 'subscription_item', subscription: id, price: priceObject(i.price),
        ...(prices.get(i.price)!.usageType === 'licensed' ? { quantity: i.quantity ?? 1 } : {}),
        current_period_start: start, current_period_end: end, created: start, metadata: {},
      })), `/v1/subscription_items?subscription=${id}`),
    };
    subscriptions.set(id, sub);
    return sub;
  }

  function createInvoice(sub: Obj, status: 'paid' | 'open'): Obj {
    const total = (sub.items.data as Obj[]).reduce((n, i) => n + (i.price.recurring.usage_type === 'licensed' ? i.price.unit_amount * (i.quantity ?? 1) : 0), 0);
    const id = newId('in');
    const inv = {
      id, object: 'invoice', customer: sub.customer, status, number: `STANDIN-${String(++invoiceNumber).padStart(4, '0')}`,
      currency: 'usd', total, subtotal: total, amount_due: total, amount_paid: status === 'paid' ? total : 0, amount_remaining: status === 'paid' ? 0 : total,
      created: now(), livemode: false, hosted_invoice_url: `${url}/i/${id}`, invoice_pdf: `${url}/i/${id}/pdf`,
      billing_reason: 'subscription_cycle', attempt_count: 1, attempted: true,
      parent: { type: 'subscription_details', quote_details: null, subscription_details: { subscription: sub.id, metadata: sub.metadata } },
    };
    invoices.set(id, inv);
    return inv;
  }

  function cancelSubscription(sub: Obj): void {
    if (sub.status === 'canceled') return;
    Object.assign(sub, { status: 'canceled', canceled_at: now(), ended_at: now() });
    emit('customer.subscription.deleted', sub);
  }

  function completeCheckout(s: Obj): Obj {
    if (s.status !== 'open') throw invalid('This Checkout Session is no longer open.', { code: 'checkout_session_not_open' });
    let customer = s.customer as string | null;
    if (!customer) {
      customer = newId('cus');
      customers.set(customer, { id: customer, object: 'customer', created: now(), email: s.customer_email ?? null, name: null, metadata: {}, livemode: false });
    }
    const sub = createSubscription(customer, s._line_items, s._subscription_metadata);
    const inv = createInvoice(sub, 'paid');
    Object.assign(s, { status: 'complete', payment_status: 'paid', customer, subscription: sub.id });
    // Stripe sends these in no guaranteed order; this is a common one.
    emit('customer.subscription.created', sub);
    emit('invoice.paid', inv);
    emit('checkout.session.completed', publicSession(s));
    return s;
  }

  function publicSession(s: Obj): Obj {
    const { _line_items: _l, _subscription_metadata: _m, ...rest } = s;
    return rest;
  }

  const meta = (v: unknown): Obj => (v && typeof v === 'object' ? { ...(v as Obj) } : {});

  // ---- HTTP -----------------------------------------------------------------------------
  const app = express();
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: true, limit: '256kb' }));
  app.use(express.json({ limit: '64kb' }));

  app.use((req, res, next) => {
    res.setHeader('request-id', newId('req'));
    if (!req.path.startsWith('/__standin')) requestLog.push(`${req.method} ${req.path}`);
    const f = faults.find((x) => x.times > 0 && req.path.startsWith(x.path) && (!x.method || x.method === req.method));
    if (!f) return next();
    f.times--;
    if (f.kind === 'hang') return; // the client's timeout is the only way out
    if (f.kind === 'error') {
      res.status(f.status ?? 500).json({ error: { type: 'api_error', message: 'An unexpected error occurred (injected by the stand-in).' } });
      return;
    }
    // drop, stall: let the request do its work, then lose the answer.
    res.json = function lost() {
      if (f.kind === 'drop') req.socket.destroy();
      return res;
    } as typeof res.json;
    next();
  });

  const api = express.Router();
  // Stripe takes the key as Bearer auth (the SDKs) or as the Basic auth user name (curl -u sk_…:).
  api.use((req, _res, next) => {
    const auth = req.get('authorization') ?? '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
    const basic = /^Basic\s+(\S+)$/i.exec(auth)?.[1];
    const key = bearer ?? (basic ? Buffer.from(basic, 'base64').toString('utf8').split(':')[0] : undefined);
    if (!key) return next(new StripeHttpError(401, { type: 'invalid_request_error', message: 'You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. \'Authorization: Bearer YOUR_SECRET_KEY\').' }));
    if (key !== opts.apiKey) return next(new StripeHttpError(401, { type: 'invalid_request_error', message: `Invalid API Key provided: ${key.slice(0, 8)}${'*'.repeat(8)}${key.slice(-4)}` }));
    next();
  });
  // Idempotency keys: the same key and parameters replay the first answer (24 h at Stripe).
  api.use((req, res, next) => {
    const key = req.get('idempotency-key');
    if (req.method !== 'POST' || !key) return next();
    const params = JSON.stringify(req.body ?? {});
    const seen = idempotent.get(key);
    if (seen) {
      if (seen.params !== params) return next(invalid(`Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`, { type: 'idempotency_error' }));
      res.setHeader('idempotent-replayed', 'true');
      res.status(seen.status).json(seen.body);
      return;
    }
    const json = res.json.bind(res);
    res.json = ((body: Obj) => {
      idempotent.set(key, { params, status: res.statusCode, body });
      return json(body);
    }) as typeof res.json;
    next();
  });

  const need = (v: unknown, param: string): string => {
    if (typeof v !== 'string' || !v) throw invalid(`Missing required param: ${param}.`, { code: 'parameter_missing', param });
    return v;
  };
  const customerOf = (id: string, param = 'customer'): Obj => customers.get(id) ?? (() => { throw missing('customer', id, param); })();

  api.post('/customers', (req, res) => {
    const c = { id: newId('cus'), object: 'customer', created: now(), email: req.body.email ?? null, name: req.body.name ?? null, metadata: meta(req.body.metadata), livemode: false };
    customers.set(c.id, c);
    res.json(c);
  });
  api.get('/customers/:id', (req, res) => void res.json(customerOf(req.params.id as string, 'id')));

  api.post('/checkout/sessions', (req, res) => {
    const b = req.body as Obj;
    const mode = need(b.mode, 'mode');
    if (!['payment', 'setup', 'subscription'].includes(mode)) throw invalid(`Invalid mode: must be one of payment, setup, or subscription`, { param: 'mode' });
    if (b.customer) customerOf(b.customer);
    const items = Array.isArray(b.line_items) ? (b.line_items as Obj[]) : [];
    if (mode === 'subscription' && !items.length) throw invalid('You must provide at least one recurring price in `subscription` mode when using prices.', { param: 'line_items' });
    const lineItems = items.map((li, i) => {
      const price = need(li.price, `line_items[${i}][price]`);
      const p = prices.get(price);
      if (!p) throw invalid(`No such price: '${price}'`, { code: 'resource_missing', param: `line_items[${i}][price]` });
      if (p.usageType === 'metered' && li.quantity !== undefined) throw invalid('Quantity should not be specified where usage_type is `metered`. Remove quantity from `line_items[' + i + ']`', { param: `line_items[${i}][quantity]` });
      return { price, quantity: li.quantity === undefined ? undefined : Number(li.quantity) };
    });
    const id = newId('cs_test');
    const s = {
      id, object: 'checkout.session', mode, status: 'open', payment_status: 'unpaid', livemode: false, created: now(),
      expires_at: now() + 86400, customer: b.customer ?? null, customer_email: b.customer_email ?? null,
      client_reference_id: b.client_reference_id ?? null, metadata: meta(b.metadata), subscription: null,
      success_url: need(b.success_url, 'success_url'), cancel_url: b.cancel_url ?? null, url: `${url}/c/pay/${id}`,
      _line_items: lineItems, _subscription_metadata: meta(b.subscription_data?.metadata),
    };
    sessions.set(id, s);
    res.json(publicSession(s));
  });
  api.get('/checkout/sessions/:id', (req, res) => {
    const s = sessions.get(req.params.id as string);
    if (!s) throw missing('checkout.session', req.params.id as string);
    res.json(publicSession(s));
  });

  api.post('/billing_portal/sessions', (req, res) => {
    const customer = need(req.body.customer, 'customer');
    customerOf(customer);
    const id = newId('bps');
    const s = { id, object: 'billing_portal.session', customer, created: now(), livemode: false, return_url: req.body.return_url ?? null, url: `${url}/p/session/${id}` };
    portalSessions.set(id, s);
    res.json(s);
  });

  const subOf = (id: string): Obj => subscriptions.get(id) ?? (() => { throw missing('subscription', id); })();
  api.get('/subscriptions/:id', (req, res) => void res.json(subOf(req.params.id as string)));
  api.get('/subscriptions', (req, res) => {
    const data = [...subscriptions.values()].filter((s) => !req.query.customer || s.customer === req.query.customer).reverse();
    res.json(list(data, '/v1/subscriptions'));
  });
  api.post('/subscriptions/:id', (req, res) => {
    const sub = subOf(req.params.id as string);
    if (req.body.metadata) sub.metadata = { ...sub.metadata, ...meta(req.body.metadata) };
    if (req.body.cancel_at_period_end !== undefined) sub.cancel_at_period_end = req.body.cancel_at_period_end === 'true';
    emit('customer.subscription.updated', sub);
    res.json(sub);
  });
  api.delete('/subscriptions/:id', (req, res) => {
    const sub = subOf(req.params.id as string);
    cancelSubscription(sub);
    res.json(sub);
  });

  api.get('/invoices', (req, res) => {
    const limit = Math.min(100, Math.max(1, Number(req.query.limit ?? 10)));
    const data = [...invoices.values()].filter((i) => !req.query.customer || i.customer === req.query.customer).reverse();
    res.json({ ...list(data.slice(0, limit), '/v1/invoices'), has_more: data.length > limit });
  });
  api.get('/invoices/:id', (req, res) => {
    const inv = invoices.get(req.params.id as string);
    if (!inv) throw missing('invoice', req.params.id as string);
    res.json(inv);
  });

  api.post('/billing/meter_events', (req, res) => {
    const b = req.body as Obj;
    const eventName = need(b.event_name, 'event_name');
    if (!b.payload || typeof b.payload !== 'object') throw invalid('Missing required param: payload.', { code: 'parameter_missing', param: 'payload' });
    const timestamp = b.timestamp === undefined ? now() : Number(b.timestamp);
    if (!Number.isInteger(timestamp) || timestamp < now() - 35 * 86400 || timestamp > now() + 300) {
      throw invalid('Timestamp must be within the past 35 calendar days or up to 5 minutes in the future.', { param: 'timestamp' });
    }
    const identifier = typeof b.identifier === 'string' && b.identifier ? b.identifier : newId('mev');
    const seenAt = meterIdentifiers.get(identifier);
    if (seenAt !== undefined && now() - seenAt < 86400) {
      throw new StripeHttpError(400, { type: 'invalid_request_error', message: `An event already exists with identifier ${identifier}.` }, { 'stripe-should-retry': 'false' });
    }
    meterIdentifiers.set(identifier, now());
    const ev = { object: 'billing.meter_event', created: now(), event_name: eventName, identifier, livemode: false, payload: meta(b.payload), timestamp };
    meterEvents.push(ev);
    res.json(ev);
  });

  app.use('/v1', api);

  // ---- API v2: the high-throughput meter event stream ----------------------------------------
  // A session (created with the secret key) gives a token valid for 15 minutes; the stream takes
  // up to 100 events per request with that token and checks only the request's shape at once.
  // Each event is then processed on its own, as Stripe does asynchronously: one whose identifier
  // was seen in the last 24 h, or whose timestamp is out of range, is dropped and listed among
  // the errors (Stripe's meter error report), and the request still answers 200 `{}`.
  const v2 = express.Router();
  const streamTokens = new Map<string, number>();
  const meterErrors: Obj[] = [];
  const v2Error = (status: number, type: string, message: string, extra: Obj = {}) => new StripeHttpError(status, { type, message, ...extra });
  v2.post('/billing/meter_event_session', (req, _res, next) => {
    const key = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
    if (key !== opts.apiKey) return next(v2Error(401, 'invalid_request_error', 'Invalid API Key provided.'));
    next();
  }, (_req, res) => {
    const token = newId('mes_tok');
    const created = Date.now();
    const expires = created + sessionTtlMs;
    streamTokens.set(token, expires);
    res.json({ id: newId('mes'), object: 'v2.billing.meter_event_session', authentication_token: token, created: new Date(created).toISOString(), expires_at: new Date(expires).toISOString(), livemode: false });
  });
  v2.post('/billing/meter_event_stream', (req, res) => {
    const token = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1] ?? '';
    const expires = streamTokens.get(token);
    if (expires === undefined) throw v2Error(401, 'invalid_request_error', 'Invalid authentication token.');
    if (expires <= Date.now()) throw v2Error(401, 'temporary_session_expired', 'The temporary session token has expired.', { code: 'billing_meter_event_session_expired' });
    const batch = (req.body as Obj).events;
    if (!Array.isArray(batch) || batch.length < 1 || batch.length > 100) throw v2Error(400, 'invalid_request_error', 'events must hold between 1 and 100 events.', { code: 'invalid_fields' });
    for (const [i, e] of (batch as Obj[]).entries()) {
      if (typeof e?.event_name !== 'string' || !e.event_name) throw v2Error(400, 'invalid_request_error', `events[${i}].event_name is required.`, { code: 'invalid_fields' });
      if (!e.payload || typeof e.payload !== 'object') throw v2Error(400, 'invalid_request_error', `events[${i}].payload is required.`, { code: 'invalid_fields' });
    }
    for (const e of batch as Obj[]) {
      const identifier = typeof e.identifier === 'string' && e.identifier ? e.identifier : newId('mev');
      const at = e.timestamp === undefined ? now() : Math.floor(Date.parse(String(e.timestamp)) / 1000);
      const seenAt = meterIdentifiers.get(identifier);
      if (!Number.isFinite(at) || at < now() - 35 * 86400 || at > now() + 300) {
        meterErrors.push({ identifier, code: 'timestamp_out_of_range' });
      } else if (seenAt !== undefined && now() - seenAt < 86400) {
        meterErrors.push({ identifier, code: 'duplicate_meter_event' });
      } else {
        meterIdentifiers.set(identifier, now());
        meterEvents.push({ object: 'billing.meter_event', created: now(), event_name: e.event_name, identifier, livemode: false, payload: meta(e.payload), timestamp: at });
      }
    }
    res.json({});
  });
  if (opts.meterStream !== false) app.use('/v2', v2);

  // ---- hosted pages (what the customer's browser sees) ------------------------------------
  app.get('/c/pay/:id', (req, res) => {
    const s = sessions.get(req.params.id);
    if (!s) return void res.status(404).type('html').send(hostedPage('Checkout', '<p>This checkout link is not valid.</p>'));
    const lines = (s._line_items as Array<{ price: string; quantity?: number }>).map((li) => {
      const p = prices.get(li.price)!;
      return `<li>${p.usageType === 'metered' ? 'Per use, billed monthly' : `$${(p.unitAmount / 100).toFixed(2)} / month`} <code>${li.price}</code></li>`;
    }).join('');
    const body = s.status === 'open'
      ? `<ul>${lines}</ul><form method="post" action="/c/pay/${s.id}"><button type="submit">Subscribe</button></form>${s.cancel_url ? `<p><a href="${encodeURI(s.cancel_url)}">Back</a></p>` : ''}`
      : '<p>This checkout is complete.</p>';
    res.type('html').send(hostedPage('Subscribe (Stripe stand-in)', body));
  });
  app.post('/c/pay/:id', (req, res) => {
    const s = sessions.get(req.params.id);
    if (!s) return void res.status(404).type('html').send(hostedPage('Checkout', '<p>This checkout link is not valid.</p>'));
    completeCheckout(s);
    res.redirect(303, String(s.success_url).replace('{CHECKOUT_SESSION_ID}', s.id));
  });
  app.get('/p/session/:id', (req, res) => {
    const ps = portalSessions.get(req.params.id);
    if (!ps) return void res.status(404).type('html').send(hostedPage('Billing portal', '<p>This link has expired.</p>'));
    const subs = [...subscriptions.values()].filter((x) => x.customer === ps.customer);
    const rows = subs.map((x) => `<li>${x.id}: <strong>${x.status}</strong>${x.status === 'canceled' ? '' : ` <form method="post" action="/p/session/${ps.id}/cancel/${x.id}" style="display:inline"><button type="submit">Cancel plan</button></form>`}</li>`).join('');
    res.type('html').send(hostedPage('Billing portal (Stripe stand-in)', `<ul>${rows || '<li>No subscriptions</li>'}</ul>${ps.return_url ? `<p><a href="${encodeURI(ps.return_url)}">Return</a></p>` : ''}`));
  });
  app.post('/p/session/:id/cancel/:sub', (req, res) => {
    const ps = portalSessions.get(req.params.id);
    const sub = subscriptions.get(req.params.sub);
    if (!ps || !sub || sub.customer !== ps.customer) return void res.status(404).type('html').send(hostedPage('Billing portal', '<p>Not found.</p>'));
    cancelSubscription(sub);
    res.redirect(303, ps.return_url ?? `/p/session/${ps.id}`);
  });
  app.get('/i/:id', (req, res) => {
    const inv = invoices.get(req.params.id);
    if (!inv) return void res.status(404).type('html').send(hostedPage('Invoice', '<p>Not found.</p>'));
    res.type('html').send(hostedPage(`Invoice ${inv.number}`, `<p>${inv.status}: $${(inv.total / 100).toFixed(2)}</p>`));
  });

  // ---- control (tests, staging) -------------------------------------------------------------
  const control = express.Router();
  control.post('/webhook', (req, res) => {
    webhookUrl = typeof req.body.url === 'string' && req.body.url ? req.body.url : undefined;
    res.json({ ok: true });
  });
  control.post('/faults', (req, res) => {
    const f = req.body as Fault;
    faults.push({ path: String(f.path), kind: f.kind, times: Number(f.times ?? 1), ...(f.method ? { method: String(f.method) } : {}), ...(f.status ? { status: Number(f.status) } : {}) });
    res.json({ ok: true });
  });
  control.delete('/faults', (_req, res) => {
    faults = [];
    res.json({ ok: true });
  });
  control.get('/meter_events', (_req, res) => void res.json({ data: meterEvents }));
  control.get('/meter_event_errors', (_req, res) => void res.json({ data: meterErrors }));
  control.post('/meter_event_sessions/expire', (_req, res) => {
    for (const token of streamTokens.keys()) streamTokens.set(token, 0);
    res.json({ ok: true });
  });
  control.get('/events', (_req, res) => void res.json({ data: events }));
  control.get('/requests', (_req, res) => void res.json({ data: requestLog }));
  control.post('/events/:id/resend', (req, res) => {
    const e = events.find((x) => x.id === req.params.id);
    if (!e) throw missing('event', req.params.id as string);
    void deliver(e);
    res.json({ ok: true });
  });
  control.post('/subscriptions/:id/renew', (req, res) => {
    const sub = subOf(req.params.id as string);
    const failed = req.body.outcome === 'failed';
    const inv = createInvoice(sub, failed ? 'open' : 'paid');
    sub.status = failed ? 'past_due' : 'active';
    emit(failed ? 'invoice.payment_failed' : 'invoice.paid', inv);
    emit('customer.subscription.updated', sub);
    res.json(sub);
  });
  app.use('/__standin', control);

  app.use((req, _res, next) => next(invalid(`Unrecognized request URL (${req.method}: ${req.path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`, {}, 404)));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof StripeHttpError) {
      for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
      res.status(err.status).json({ error: err.body });
      return;
    }
    if ((err as { type?: string }).type === 'entity.parse.failed') return void res.status(400).json({ error: { type: 'invalid_request_error', message: 'Invalid request body.' } });
    res.status(500).json({ error: { type: 'api_error', message: (err as Error).message } });
  });

  const http: Server = createServer(app);
  await new Promise<void>((ok, fail) => {
    http.once('error', fail);
    http.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', ok);
  });
  url = `http://${opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1'}:${(http.address() as AddressInfo).port}`;

  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}/__standin${path}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    const data = (await res.json()) as T & { error?: { message: string } };
    if (!res.ok) throw new Error(`stand-in ${path}: ${data.error?.message ?? res.status}`);
    return data;
  };

  return {
    url,
    async close() {
      for (const t of pendingTimers) clearTimeout(t);
      http.closeAllConnections();
      await new Promise<void>((ok) => http.close(() => ok()));
    },
    setWebhookUrl: async (u) => void (await call('POST', '/webhook', { url: u })),
    inject: async (f) => void (await call('POST', '/faults', f)),
    clearFaults: async () => void (await call('DELETE', '/faults')),
    meterEvents: async () => (await call<{ data: Obj[] }>('GET', '/meter_events')).data,
    meterEventErrors: async () => (await call<{ data: Obj[] }>('GET', '/meter_event_errors')).data,
    expireMeterSessions: async () => void (await call('POST', '/meter_event_sessions/expire')),
    events: async () => (await call<{ data: StripeEventRecord[] }>('GET', '/events')).data,
    resend: async (id) => void (await call('POST', `/events/${id}/resend`)),
    renew: async (id, outcome) => void (await call('POST', `/subscriptions/${id}/renew`, { outcome })),
    requests: async () => (await call<{ data: string[] }>('GET', '/requests')).data,
  };
}
