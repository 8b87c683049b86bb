/**
 * MAU metering and the free plan's limit, live logins end to end: the WeChat simulator stands
 * in for WeChat (live mode), the Stripe stand-in for Stripe, both over HTTP; Postgres and
 * Redis are real.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingMeterOutbox, monthlyActiveUsers, tenants } from '../../server/db/schema/index';
import type { RunningServer } from '../../server/main';
import { openSocket, postJson, testScan } from '../helpers/login';
import { TEST_REDIS_URL } from '../helpers/redis';
import { createTestEnv, TEST_MASTER_KEY, type TestEnv } from '../helpers/server';
import {
  billingVars, createLiveApp, FAST_BILLING, liveLogin, startSimulator, startStandin, waitFor,
  type LiveApp, type RunningSimulator, type RunningStandin,
} from './billing-support';
import { FAST_SCHEDULE, Receiver } from './webhooks-support';

let env: TestEnv;
let sim: RunningSimulator;
let standin: RunningStandin;
let server: RunningServer;
let receiver: Receiver;

const yyyymm = () => new Date().toISOString().slice(0, 7).replace('-', '');

beforeAll(async () => {
  env = await createTestEnv('billmeter');
  sim = await startSimulator();
  standin = await startStandin();
  receiver = await new Receiver().listen();
  // The burst test opens 131 login codes from one address.
  server = await env.start({ ...billingVars(standin), WECHAT_API_BASE: sim.url, PLAN_FREE_MAU: '2', SESSION_RATE_LIMIT: '1000' }, { billing: FAST_BILLING, webhooks: FAST_SCHEDULE });
  await standin.setWebhookUrl(`${server.url}/v1/billing/stripe-webhook`);
});
afterAll(async () => {
  await env?.dispose();
  await receiver?.close();
  await standin?.close();
  await sim?.close();
});

/** `npm run cli -- billing:status` as an operator runs it, against this test's database and Stripe. */
async function billingStatus(tenantId: string) {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'billing:status', '--tenant', tenantId], {
    env: { ...process.env, ...billingVars(standin), NODE_ENV: 'test', DATABASE_URL: env.databaseUrl, REDIS_URL: TEST_REDIS_URL, MASTER_KEY: TEST_MASTER_KEY, LOG_LEVEL: 'silent' },
  });
  return JSON.parse(stdout) as { billing: string; meterEvents: { pending: number; oldestPending: string | null; lastError: string | null } };
}

async function liveEndpoint(app: LiveApp) {
  const r = await postJson(`${server.url}/v1/webhook_endpoints`, { url: receiver.url }, { authorization: `Bearer ${app.keys.live!.secret}` });
  expect(r.status).toBe(201);
  receiver.secrets.push(r.body.secret);
}

async function giveCustomer(tenantId: string, customer: string) {
  await server.core.db.update(tenants).set({ stripeCustomerId: customer }).where(eq(tenants.id, tenantId));
}

/** Scans re-read the plan and count once the cached copy is gone (200 ms in these tests). */
async function quotaCacheExpired(tenantId: string) {
  const key = server.core.key('billing', 'quota', tenantId, `${new Date().toISOString().slice(0, 7)}-01`);
  await waitFor('the cached quota to expire', async () => (await server.core.redis.client.exists(key)) === 0);
}

async function usage(app: LiveApp) {
  const res = await fetch(`${server.url}/v1/usage`, { headers: { authorization: `Bearer ${app.keys.live!.secret}` } });
  return res.json() as Promise<Record<string, unknown>>;
}

describe('the free plan\'s limit (live mode only)', () => {
  it('lets active users in, refuses a new one with quota_exceeded on the phone and in the browser, and never blocks test mode', async () => {
    const app = await createLiveApp(server, sim);
    await liveEndpoint(app);
    expect((await liveLogin(server, sim, app, 'o_alice')).frame.type).toBe('success');
    expect((await liveLogin(server, sim, app, 'o_bob')).frame.type).toBe('success');
    expect(await usage(app)).toEqual({ month: new Date().toISOString().slice(0, 7), activeUsers: 2, limit: 2, plan: 'free' });

    const carol = await liveLogin(server, sim, app, 'o_carol');
    expect(carol.scan.status).toBe(403);
    expect(carol.scan.body.error.code).toBe('quota_exceeded');
    expect(carol.scan.body.error.message).toMatch(/reached its plan's limit/);
    expect(carol.frame).toMatchObject({ type: 'error', code: 'quota_exceeded' });

    // Alice is already active this month: in, and still two active users.
    expect((await liveLogin(server, sim, app, 'o_alice')).frame.type).toBe('success');
    expect((await usage(app)).activeUsers).toBe(2);

    // Test mode: new users as many as you like.
    for (const openid of ['o_test_1', 'o_test_2', 'o_test_3']) {
      const sock = await openSocket(server.url, app.keys.test.publishable);
      const s = await sock.next('session');
      const scan = await testScan(server.url, app.keys.test.secret, String(s.session), openid);
      expect(scan.status).toBe(200);
      expect((await postJson(`${server.url}/v1/mp/confirm`, { scene: s.session, ticket: scan.body.ticket })).status).toBe(200);
      await sock.next('scanned');
      await sock.next('success');
      sock.close();
    }
    expect((await usage(app)).activeUsers).toBe(2);

    // One quota warning per threshold this month, whatever the number of scans after it.
    await liveLogin(server, sim, app, 'o_dave');
    await waitFor('both quota warnings', () => receiver.received.filter((r) => r.body.includes('billing.quota_warning')).length >= 2);
    await quotaCacheExpired(app.tenantId);
    await liveLogin(server, sim, app, 'o_erin');
    const warnings = receiver.received.filter((r) => r.body.includes('billing.quota_warning')).map((r) => JSON.parse(r.body));
    expect(warnings.map((w) => w.data.threshold).sort()).toEqual([100, 80]);
    expect(warnings[0].data).toMatchObject({ activeUsers: 2, limit: 2, plan: 'free' });
    expect(receiver.received.filter((r) => r.body.includes('billing.quota_warning')).every((r) => r.verifiedWith.length === 1)).toBe(true);

    // The operator raises the limit: the next new user gets in.
    await server.core.db.update(tenants).set({ plan: 'custom', mauLimit: 3 }).where(eq(tenants.id, app.tenantId));
    await quotaCacheExpired(app.tenantId);
    expect((await liveLogin(server, sim, app, 'o_carol')).frame.type).toBe('success');
    expect(await usage(app)).toMatchObject({ activeUsers: 3, limit: 3, plan: 'custom' });
  });
});

describe('webhook endpoints per app follow the plan', () => {
  it('free: 3 per app and mode; pro: 20', async () => {
    const app = await createLiveApp(server, sim);
    const create = (i: number) => postJson(`${server.url}/v1/webhook_endpoints`, { url: `${receiver.url}/cap${i}` }, { authorization: `Bearer ${app.keys.live!.secret}` });
    for (let i = 0; i < 3; i++) expect((await create(i)).status).toBe(201);
    const refused = await create(3);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'limit_exceeded', details: { limit: 3 } });
    await server.core.db.update(tenants).set({ plan: 'pro', billingStatus: 'active' }).where(eq(tenants.id, app.tenantId));
    expect((await create(3)).status).toBe(201);
  });
});

describe('meter events', () => {
  it('one per new monthly active user, none for a returning one; rows wait until the tenant has a customer', async () => {
    const app = await createLiveApp(server, sim);
    await server.core.db.update(tenants).set({ plan: 'pro' }).where(eq(tenants.id, app.tenantId));
    for (const openid of ['o_m1', 'o_m2', 'o_m1']) expect((await liveLogin(server, sim, app, openid)).frame.type).toBe('success');
    const mau = await server.core.db.select().from(monthlyActiveUsers).where(eq(monthlyActiveUsers.tenantId, app.tenantId));
    expect(mau).toHaveLength(2);
    // No customer yet: the two rows wait (a few sender passes go by; absence can't be polled for).
    await new Promise((r) => setTimeout(r, 400));
    expect((await standin.meterEvents()).filter((e) => String(e.identifier).includes(app.tenantId))).toHaveLength(0);
    expect((await server.core.db.select().from(billingMeterOutbox).where(eq(billingMeterOutbox.tenantId, app.tenantId))).map((r) => r.attempts)).toEqual([0, 0]);

    // What an operator sees meanwhile: two events waiting since the first login, no error.
    const waiting = await billingStatus(app.tenantId);
    expect(waiting).toMatchObject({ billing: 'on', meterEvents: { pending: 2, lastError: null } });
    expect(Date.parse(waiting.meterEvents.oldestPending!)).toBe(Math.min(...mau.map((m) => m.createdAt.getTime())));

    await giveCustomer(app.tenantId, 'cus_meter_1');
    const sent = await waitFor('two meter events', async () => {
      const mine = (await standin.meterEvents()).filter((e) => String(e.identifier).includes(app.tenantId));
      return mine.length === 2 ? mine : null;
    });
    expect(sent.map((e) => e.identifier).sort()).toEqual(mau.map((m) => `mau_${app.tenantId}_${m.userId}_${yyyymm()}`).sort());
    for (const e of sent) expect(e).toMatchObject({ event_name: 'wsl_active_user', payload: { stripe_customer_id: 'cus_meter_1', value: '1' } });
    await waitFor('outbox marked sent', async () => (await server.core.db.$count(billingMeterOutbox, and(eq(billingMeterOutbox.tenantId, app.tenantId), isNull(billingMeterOutbox.sentAt)))) === 0);

    // A returning user adds nothing (the outbox row is written by the login itself, or never); a new one adds one.
    await liveLogin(server, sim, app, 'o_m2');
    expect(await server.core.db.$count(billingMeterOutbox, eq(billingMeterOutbox.tenantId, app.tenantId))).toBe(2);
    await liveLogin(server, sim, app, 'o_m3');
    expect(await server.core.db.$count(billingMeterOutbox, eq(billingMeterOutbox.tenantId, app.tenantId))).toBe(3);
    await waitFor('the third event', async () => (await server.core.db.$count(billingMeterOutbox, and(eq(billingMeterOutbox.tenantId, app.tenantId), isNull(billingMeterOutbox.sentAt)))) === 0);
    expect((await standin.meterEvents()).filter((e) => String(e.identifier).includes(app.tenantId))).toHaveLength(3);
  });

  it('a Stripe outage (5xx, timeouts, answers lost after the work) delays events and neither loses nor doubles one', async () => {
    const app = await createLiveApp(server, sim);
    await server.core.db.update(tenants).set({ plan: 'pro', stripeCustomerId: 'cus_outage_1' }).where(eq(tenants.id, app.tenantId));
    const path = '/v2/billing/meter_event_stream';
    await standin.inject({ path, kind: 'error', status: 500, times: 3 });
    await standin.inject({ path, kind: 'error', status: 503, times: 3 });
    await standin.inject({ path, kind: 'hang', times: 2 });
    await standin.inject({ path, kind: 'drop', times: 2 });
    const users = Array.from({ length: 6 }, (_, i) => `o_out_${i}`);
    for (const openid of users) expect((await liveLogin(server, sim, app, openid)).frame.type).toBe('success');
    const mine = async () => (await standin.meterEvents()).filter((e) => String(e.identifier).includes(app.tenantId));
    await waitFor('all six through', async () => (await mine()).length === 6 && (await server.core.db.$count(billingMeterOutbox, and(eq(billingMeterOutbox.tenantId, app.tenantId), isNull(billingMeterOutbox.sentAt)))) === 0, 40_000);
    const ids = (await mine()).map((e) => e.identifier);
    expect(new Set(ids).size).toBe(6);
    const rows = await server.core.db.select().from(billingMeterOutbox).where(eq(billingMeterOutbox.tenantId, app.tenantId));
    // The faults were met: some rows took more than one attempt.
    expect(rows.some((r) => r.attempts > 1)).toBe(true);
    await standin.clearFaults();
    expect((await billingStatus(app.tenantId)).meterEvents).toEqual({ pending: 0, oldestPending: null, lastError: null });
  }, 60_000);

  it('billing:status shows events held up by Stripe and the error it gave', async () => {
    const app = await createLiveApp(server, sim);
    await server.core.db.update(tenants).set({ plan: 'pro', stripeCustomerId: 'cus_held_1' }).where(eq(tenants.id, app.tenantId));
    await standin.inject({ path: '/v2/billing/meter_event_stream', kind: 'error', status: 503, times: 1_000_000 });
    try {
      expect((await liveLogin(server, sim, app, 'o_held_1')).frame.type).toBe('success');
      await waitFor('a failed attempt', async () => {
        const [row] = await server.core.db.select().from(billingMeterOutbox).where(eq(billingMeterOutbox.tenantId, app.tenantId));
        return row?.lastError ? row : null;
      });
      const held = await billingStatus(app.tenantId);
      expect(held.meterEvents).toMatchObject({ pending: 1, lastError: expect.stringMatching(/unexpected error/i) });
    } finally {
      await standin.clearFaults();
    }
    await waitFor('the event through', async () => (await billingStatus(app.tenantId)).meterEvents.pending === 0);
  }, 60_000);

  it('sends a burst of new users in stream requests of up to 100 events, and renews an expired session token', async () => {
    const app = await createLiveApp(server, sim);
    const mine = async () => (await standin.meterEvents()).filter((e) => String(e.identifier).includes(app.tenantId));
    // One event first, so the sender holds a session token that can then expire.
    await server.core.db.update(tenants).set({ plan: 'pro', stripeCustomerId: 'cus_burst_1' }).where(eq(tenants.id, app.tenantId));
    expect((await liveLogin(server, sim, app, 'o_burst_first')).frame.type).toBe('success');
    await waitFor('the first event', async () => (await mine()).length === 1);
    // No customer while the burst arrives, so its rows wait and then go out together.
    await server.core.db.update(tenants).set({ stripeCustomerId: null }).where(eq(tenants.id, app.tenantId));
    const users = Array.from({ length: 130 }, (_, i) => `o_burst_${i}`);
    for (let i = 0; i < users.length; i += 10) {
      const wave = await Promise.all(users.slice(i, i + 10).map((openid) => liveLogin(server, sim, app, openid)));
      for (const l of wave) expect(l.frame.type).toBe('success');
    }
    await standin.expireMeterSessions();
    const before = await standin.requests();
    await giveCustomer(app.tenantId, 'cus_burst_1');
    await waitFor('all 131 through', async () => (await mine()).length === 131 && (await server.core.db.$count(billingMeterOutbox, and(eq(billingMeterOutbox.tenantId, app.tenantId), isNull(billingMeterOutbox.sentAt)))) === 0, 30_000);
    const during = (await standin.requests()).slice(before.length);
    // 130 events: two requests carry them (100 + 30), plus the one refused for the expired token.
    expect(during.filter((r) => r === 'POST /v2/billing/meter_event_stream')).toHaveLength(3);
    expect(during.filter((r) => r === 'POST /v2/billing/meter_event_session')).toHaveLength(1);
    expect(new Set((await mine()).map((e) => e.identifier)).size).toBe(131);
    // Each event is dated when the user became active.
    const [row] = await server.core.db.select().from(billingMeterOutbox).where(eq(billingMeterOutbox.tenantId, app.tenantId)).limit(1);
    const ev = (await mine()).find((e) => e.identifier === row!.id)!;
    expect(ev.timestamp).toBe(Math.floor(row!.createdAt.getTime() / 1000));
  }, 90_000);
});
