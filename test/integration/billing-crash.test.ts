import { spawn, type ChildProcess } from 'node:child_process';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingMeterOutbox, tenants } from '../../server/db/schema/index';
import { createTestEnv, type TestEnv } from '../helpers/server';
import {
  billingVars, createLiveApp, FAST_BILLING, liveLogin, startSimulator, startStandin, waitFor, type RunningSimulator, type RunningStandin,
} from './billing-support';

let env: TestEnv;
let sim: RunningSimulator;
let standin: RunningStandin;
let child: ChildProcess | undefined;

beforeAll(async () => {
  env = await createTestEnv('billcrash');
  sim = await startSimulator();
  standin = await startStandin();
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await env?.dispose();
  await standin?.close();
  await sim?.close();
});

function startChild(vars: Record<string, string>): Promise<ChildProcess> {
  // A long Stripe timeout: the process is killed while it waits, before it could give up or retry.
  const tuning = { ...FAST_BILLING, stripeTimeoutMs: 60_000 };
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/integration/billing-worker-process.ts'], {
    env: { ...process.env, DB_URL: env.databaseUrl, REDIS_PREFIX: env.redisPrefix, VARS: JSON.stringify(vars), TUNING: JSON.stringify(tuning) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((ok, fail) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (/ready \S+/.test(out)) ok(proc);
    });
    proc.once('exit', (code) => fail(new Error(`billing process exited early (${code})`)));
  });
}

describe('a meter sender killed mid-send', () => {
  it('neither loses nor doubles the event: another process resends it, and Stripe keeps one', async () => {
    const vars = { ...billingVars(standin), WECHAT_API_BASE: sim.url };
    // Logins go through an API-only server; only the child sends meter events at first.
    const api = await env.start({ ...vars, ROLE: 'api' }, { billing: FAST_BILLING });
    const app = await createLiveApp(api, sim);
    await api.core.db.update(tenants).set({ plan: 'pro', stripeCustomerId: 'cus_crash_1' }).where(eq(tenants.id, app.tenantId));
    // Stripe records the event, and the answer never comes back.
    await standin.inject({ path: '/v2/billing/meter_event_stream', kind: 'stall', times: 1 });
    child = await startChild(vars);
    const crashed = new Promise<void>((ok) => child!.once('exit', () => ok()));

    expect((await liveLogin(api, sim, app, 'o_crash_1')).frame.type).toBe('success');
    await waitFor('Stripe to have the event', async () => (await standin.meterEvents()).length === 1);
    child.kill('SIGKILL');
    await crashed;
    const [row] = await api.core.db.select().from(billingMeterOutbox).where(eq(billingMeterOutbox.tenantId, app.tenantId));
    expect(row).toMatchObject({ sentAt: null, attempts: 1 });

    // A fresh sender takes the row once the dead one's claim runs out, and sends it again.
    const worker = await env.start(vars, { billing: FAST_BILLING });
    await waitFor('the row marked sent', async () => {
      const [r] = await worker.core.db.select().from(billingMeterOutbox).where(eq(billingMeterOutbox.id, row!.id));
      return r?.sentAt ? r : null;
    });
    const posts = (await standin.requests()).filter((r) => r === 'POST /v2/billing/meter_event_stream');
    expect(posts).toHaveLength(2);
    const events = await standin.meterEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ identifier: row!.id, payload: { stripe_customer_id: 'cus_crash_1', value: '1' } });
    // Stripe dropped the resent one by its identifier.
    expect(await standin.meterEventErrors()).toEqual([{ identifier: row!.id, code: 'duplicate_meter_event' }]);
  }, 120_000);
});
