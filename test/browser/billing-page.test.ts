import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { artifactPath, launchBrowser } from '../helpers/browser';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { billingVars, FAST_BILLING, startStandin, type RunningStandin } from '../integration/billing-support';
import { ConsoleClient } from '../integration/console-client';

/** The Billing page in Chromium: the owner upgrades through the stand-in's hosted Checkout; others see no billing. */
let env: TestEnv;
let standin: RunningStandin;
let billed: RunningServer;
let unbilled: RunningServer;
let browser: Browser;

beforeAll(async () => {
  env = await createTestEnv('billpage');
  standin = await startStandin();
  billed = await env.start(billingVars(standin), { billing: FAST_BILLING });
  await standin.setWebhookUrl(`${billed.url}/v1/billing/stripe-webhook`);
  unbilled = await env.start();
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await env?.dispose();
  await standin?.close();
});

async function signedIn(server: RunningServer, api: ConsoleClient): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await ctx.addCookies([{ name: 'wsl_console', value: api.cookie!.split('=')[1]!, url: `${server.url}/console` }]);
  return ctx.newPage();
}

const nav = (p: Page) => p.getByRole('navigation', { name: 'Main' });

describe('billing on', () => {
  it('Upgrade: Billing page → Stripe Checkout → back on the page, on Pro, with the invoice', async () => {
    const api = new ConsoleClient(billed.url);
    const tenant = (await api.signUp(`owner-${Date.now()}@shop.example`, undefined, 'Upgrade Org')).tenants[0]!.id;
    const p = await signedIn(billed, api);
    await p.goto(`${billed.url}/console/t/${tenant}/apps`);
    await nav(p).getByRole('link', { name: 'Billing' }).click();
    await p.locator('[data-plan=free]').waitFor();
    expect(await p.locator('[data-mau]').innerText()).toMatch(/^0\s+of 500/);

    await p.getByRole('button', { name: 'Upgrade to Pro' }).click();
    await p.waitForURL(`${standin.url}/c/pay/**`);
    await p.getByRole('button', { name: 'Subscribe' }).click();
    await p.waitForURL(`${billed.url}/console/t/${tenant}/billing?checkout=success`);
    await p.locator('[data-plan=pro]').waitFor({ timeout: 20_000 });
    await p.locator('tr[data-invoice]').first().waitFor();
    expect(await p.locator('tr[data-invoice]').first().innerText()).toMatch(/29\.00 USD\s+paid/);
    expect(await p.getByRole('button', { name: 'Upgrade to Pro' }).count()).toBe(0);
    await p.getByRole('button', { name: 'Manage subscription' }).waitFor();

    await p.evaluate(readFileSync('node_modules/axe-core/axe.min.js', 'utf8'));
    const violations = await p.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(ctx: Document): Promise<{ violations: Array<{ id: string }> }> } }).axe;
      return (await axe.run(document)).violations.map((v) => v.id);
    });
    expect(violations).toEqual([]);
    await p.screenshot({ path: artifactPath('console-billing-pro.png'), fullPage: true });
    await p.context().close();
  }, 90_000);

  it('a viewer sees no Billing entry, and the page itself is not there for them', async () => {
    const owner = new ConsoleClient(billed.url);
    const tenant = (await owner.signUp(`own-${Date.now()}@shop.example`, undefined, 'Viewer Org')).tenants[0]!.id;
    const inv = await owner.post(`/tenants/${tenant}/invitations`, { role: 'viewer' });
    const viewer = new ConsoleClient(billed.url);
    await viewer.signUp(`viewer-${Date.now()}@shop.example`);
    await viewer.post('/invitations/accept', { token: new URL(inv.body.url).hash.slice(1) });
    const p = await signedIn(billed, viewer);
    await p.goto(`${billed.url}/console/t/${tenant}/apps`);
    await nav(p).getByRole('link', { name: 'Team' }).waitFor();
    expect(await nav(p).getByRole('link', { name: 'Billing' }).count()).toBe(0);
    await p.goto(`${billed.url}/console/t/${tenant}/billing`);
    await p.getByText('There is no page here.').waitFor();
    expect(await p.locator('wsl-billing-page').count()).toBe(0);
    await p.context().close();
  }, 60_000);
});

describe('billing off (no STRIPE_SECRET_KEY)', () => {
  it('shows no Billing entry or page, even to an owner', async () => {
    const api = new ConsoleClient(unbilled.url);
    const tenant = (await api.signUp(`selfhost-${Date.now()}@shop.example`, undefined, 'Self Org')).tenants[0]!.id;
    const p = await signedIn(unbilled, api);
    await p.goto(`${unbilled.url}/console/t/${tenant}/apps`);
    await nav(p).getByRole('link', { name: 'Team' }).waitFor();
    expect(await nav(p).getByRole('link', { name: 'Billing' }).count()).toBe(0);
    await p.goto(`${unbilled.url}/console/t/${tenant}/billing`);
    await p.getByText('There is no page here.').waitFor();
    await p.context().close();
  }, 60_000);
});
