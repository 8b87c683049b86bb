/**
 * Against a Stripe-compatible API base without the v2 meter event stream (as stripe-mock has
 * only v1): the sender falls back to one meter event per request, with the same identifiers, and
 * still neither loses nor doubles one when an answer is lost after Stripe stored the event.
 */
import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingMeterOutbox, tenants } from '../../server/db/schema/index';
import type { RunningServer } from '../../server/main';
import { createTestEnv, type TestEnv } from '../helpers/server';
import {
  billingVars, createLiveApp, FAST_BILLING, liveLogin, startSimulator, startStandin, waitFor,
  type RunningSimulator, type RunningStandin,
} from './billing-support';

let env: TestEnv;
let sim: RunningSimulator;
let standin: RunningStandin;
let server: RunningServer;

beforeAll(async () => {
  env = await createTestEnv('billv1');
  sim = await startSimulator();
  standin = await startStandin({ meterStream: false });
  server = await env.start({ ...billingVars(standin), WECHAT_API_BASE: sim.url }, { billing: FAST_BILLING });
});
afterAll(async () => {
  await env?.dispose();
  await standin?.close();
  await sim?.close();
});

describe('meter events where the API base has no meter event stream', () => {
  it('go one per request to v1, each once, a lost answer included', async () => {
    const app = await createLiveApp(server, sim);
    await server.core.db.update(tenants).set({ plan: 'pro', stripeCustomerId: 'cus_v1_1' }).where(eq(tenants.id, app.tenantId));
    // Stripe stores the first event and the answer is lost: the resend is refused as a repeat.
    await standin.inject({ path: '/v1/billing/meter_events', kind: 'drop', times: 1 });
    for (const openid of ['o_v1_1', 'o_v1_2', 'o_v1_3']) expect((await liveLogin(server, sim, app, openid)).frame.type).toBe('success');
    const unsent = () => server.core.db.$count(billingMeterOutbox, and(eq(billingMeterOutbox.tenantId, app.tenantId), isNull(billingMeterOutbox.sentAt)));
    await waitFor('every row marked sent', async () => (await unsent()) === 0);

    const rows = await server.core.db.select().from(billingMeterOutbox).where(eq(billingMeterOutbox.tenantId, app.tenantId));
    const events = await standin.meterEvents();
    expect(events.map((e) => e.identifier).sort()).toEqual(rows.map((r) => r.id).sort());
    for (const e of events) expect(e).toMatchObject({ event_name: 'wsl_active_user', payload: { stripe_customer_id: 'cus_v1_1', value: '1' } });
    const requests = await standin.requests();
    expect(requests.filter((r) => r === 'POST /v2/billing/meter_event_session')).toHaveLength(1);
    expect(requests.filter((r) => r === 'POST /v2/billing/meter_event_stream')).toHaveLength(0);
    // Three events, one of them sent twice.
    expect(requests.filter((r) => r === 'POST /v1/billing/meter_events')).toHaveLength(4);
  }, 60_000);
});
