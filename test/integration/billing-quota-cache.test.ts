/**
 * Scans read a tenant's plan and count from a cache (Redis for 10 s, each process's own copy for
 * at most a second). An upgrade must still lift the limit at once where Stripe's event arrived
 * and within that second everywhere else. The Redis entry here lives a minute, so only the
 * invalidation can explain a scan getting in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { createTestEnv, type TestEnv } from '../helpers/server';
import {
  billingVars, createLiveApp, FAST_BILLING, liveLogin, startSimulator, startStandin, waitFor,
  type RunningSimulator, type RunningStandin,
} from './billing-support';
import { ConsoleClient } from './console-client';

let env: TestEnv;
let sim: RunningSimulator;
let standin: RunningStandin;
let first: RunningServer;
let second: RunningServer;

beforeAll(async () => {
  env = await createTestEnv('billquota');
  sim = await startSimulator();
  standin = await startStandin();
  const vars = { ...billingVars(standin), WECHAT_API_BASE: sim.url, PLAN_FREE_MAU: '1' };
  const tuning = { billing: { ...FAST_BILLING, quotaCacheMs: 60_000 } };
  first = await env.start(vars, tuning);
  second = await env.start(vars, tuning);
  await standin.setWebhookUrl(`${first.url}/v1/billing/stripe-webhook`);
});
afterAll(async () => {
  await env?.dispose();
  await standin?.close();
  await sim?.close();
});

describe('an upgrade lifts the free limit without waiting for the cache', () => {
  it('at once on the instance Stripe told, and within its second-long copy on another', async () => {
    const owner = new ConsoleClient(first.url);
    const me = await owner.signUp(`quota-${Math.random().toString(36).slice(2, 8)}@example.com`, undefined, 'Quota org');
    const tenantId = me.tenants[0]!.id;
    const app = await createLiveApp(first, sim, tenantId);

    expect((await liveLogin(first, sim, app, 'o_q_1')).frame.type).toBe('success');
    // Both instances have now cached the free plan's limit, reached.
    expect((await liveLogin(first, sim, app, 'o_q_2')).scan.body.error?.code).toBe('quota_exceeded');
    expect((await liveLogin(second, sim, app, 'o_q_2')).scan.body.error?.code).toBe('quota_exceeded');

    const checkout = await owner.post(`/tenants/${tenantId}/billing/checkout`);
    expect(checkout.status).toBe(200);
    await fetch(checkout.body.url, { method: 'POST', redirect: 'manual' });
    await waitFor('the plan to become pro', async () => (await owner.get(`/tenants/${tenantId}/billing`)).body?.plan === 'pro');

    expect((await liveLogin(first, sim, app, 'o_q_2')).frame.type).toBe('success');
    let n = 3;
    const onSecond = await waitFor('a new user in through the other instance', async () => {
      const l = await liveLogin(second, sim, app, `o_q_${n++}`);
      return l.frame.type === 'success' ? l : null;
    });
    expect(onSecond.frame.type).toBe('success');
  }, 60_000);
});
