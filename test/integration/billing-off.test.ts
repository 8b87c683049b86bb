/**
 * Self-hosting: with no STRIPE_SECRET_KEY billing is off. Every tenant is unlimited, there is no
 * billing API or Stripe webhook, MAU is still counted, and the CLI's plan commands work.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingMeterOutbox, tenants } from '../../server/db/schema/index';
import type { RunningServer } from '../../server/main';
import { TEST_REDIS_URL } from '../helpers/redis';
import { createTestEnv, TEST_MASTER_KEY, type TestEnv } from '../helpers/server';
import { createLiveApp, liveLogin, startSimulator, type RunningSimulator } from './billing-support';
import { ConsoleClient } from './console-client';

const run = promisify(execFile);

let env: TestEnv;
let sim: RunningSimulator;
let server: RunningServer;

beforeAll(async () => {
  env = await createTestEnv('billoff');
  sim = await startSimulator();
  server = await env.start({ WECHAT_API_BASE: sim.url, PLAN_FREE_MAU: '1' });
});
afterAll(async () => {
  await env?.dispose();
  await sim?.close();
});

async function cli(...args: string[]) {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], {
    env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: env.databaseUrl, REDIS_URL: TEST_REDIS_URL, MASTER_KEY: TEST_MASTER_KEY, LOG_LEVEL: 'silent' },
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('billing off', () => {
  it('limits nobody: a free tenant past PLAN_FREE_MAU still lets new live users in, and nothing is queued for Stripe', async () => {
    const app = await createLiveApp(server, sim);
    for (const openid of ['o_off_1', 'o_off_2', 'o_off_3']) expect((await liveLogin(server, sim, app, openid)).frame.type).toBe('success');
    const usage = await fetch(`${server.url}/v1/usage`, { headers: { authorization: `Bearer ${app.keys.live!.secret}` } });
    expect(await usage.json()).toEqual({ month: new Date().toISOString().slice(0, 7), activeUsers: 3, limit: null, plan: 'free' });
    expect(await server.core.db.$count(billingMeterOutbox, eq(billingMeterOutbox.tenantId, app.tenantId))).toBe(0);
  });

  it('has no Stripe webhook and no billing page', async () => {
    const hook = await fetch(`${server.url}/v1/billing/stripe-webhook`, { method: 'POST', headers: { 'stripe-signature': 't=1,v1=00' }, body: '{}' });
    expect(hook.status).toBe(404);
    const c = new ConsoleClient(server.url);
    const tenantId = (await c.signUp(`off-${Date.now()}@example.com`)).tenants[0]!.id;
    expect((await c.get('/billing')).body).toEqual({ enabled: false });
    expect((await c.get(`/tenants/${tenantId}/billing`)).status).toBe(404);
    expect((await c.post(`/tenants/${tenantId}/billing/checkout`)).status).toBe(404);
  });

  it('the CLI: apps:create prints the tenant id, tenants:plan sets a plan, billing:status reports it', async () => {
    const created = await cli('apps:create', '--name', 'CLI Shop', '--origin', 'https://cli.example.com', '--tenant', 'CLI tenant');
    const tenantId = String(created.tenantId);
    expect(tenantId).toMatch(/^ten_/);
    expect(await cli('billing:status', '--tenant', tenantId)).toEqual({
      tenantId, plan: 'free', status: null, activeUsers: 0, limit: null, billing: 'off', meterEvents: { pending: 0, oldestPending: null, lastError: null },
    });
    expect(await cli('tenants:plan', '--tenant', tenantId, '--plan', 'custom', '--mau', '1000')).toMatchObject({ plan: 'custom', limit: null, billing: 'off' });
    const [row] = await server.core.db.select().from(tenants).where(eq(tenants.id, tenantId));
    expect(row).toMatchObject({ plan: 'custom', mauLimit: 1000 });
    // Bad input changes nothing.
    await expect(cli('tenants:plan', '--tenant', tenantId, '--plan', 'gold')).rejects.toThrow(/--plan is free, pro or custom/);
    await expect(cli('tenants:plan', '--tenant', tenantId, '--plan', 'pro', '--mau', '5')).rejects.toThrow(/--mau only applies to --plan custom/);
    await expect(cli('billing:status', '--tenant', 'ten_doesnotexist1')).rejects.toThrow(/no tenant/);
    expect(await cli('tenants:plan', '--tenant', tenantId, '--plan', 'pro')).toMatchObject({ plan: 'pro' });
  }, 150_000);
});
