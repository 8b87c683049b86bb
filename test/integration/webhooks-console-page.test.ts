import type { Browser } from 'playwright-core';
import { it, expect } from 'vitest';
import { artifactPath, launchBrowser } from '../helpers/browser';
import { ConsoleClient } from './console-client';
import { createWebhookEnv, Receiver, waitFor } from './webhooks-support';

/** The console's Webhooks tab in Chromium, on the built SPA (`npm run build` makes dist/console). */
it('adds an endpoint, shows its secret once, sends a test event the receiver verifies, and shows the attempt', async () => {
  const env = await createWebhookEnv('whsmoke');
  // Everything after the database exists is inside the try, so a failure to start (no Chromium,
  // say) still drops it.
  let r: Receiver | undefined;
  let browser: Browser | undefined;
  try {
    const s = await env.start();
    r = await new Receiver().listen();
    browser = await launchBrowser();
    const c = new ConsoleClient(s.url);
    const me = await c.signUp('smoke@example.com');
    const tenantId = me.tenants[0]!.id;
    const app = await c.post(`/tenants/${tenantId}/apps`, { name: 'Smoke', allowedOrigins: ['https://shop.example.com'] });
    const appId = app.body.app.id;
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${s.url}/console/signin`);
    await page.getByLabel(/email/i).fill('smoke@example.com');
    await page.getByLabel(/password/i).fill('correct horse battery');
    await page.getByRole('button', { name: /sign in/i }).click();
    await page.waitForURL(/\/apps/);
    await page.goto(`${s.url}/console/t/${tenantId}/apps/${appId}/webhooks`);
    await page.getByLabel(/^URL/).fill(r.url);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.locator('wsl-app-webhooks code[data-secret]').waitFor();
    const secret = await page.locator('wsl-app-webhooks code[data-secret]').textContent();
    r.secrets = [secret!.trim()];
    await page.getByRole('button', { name: 'Send test event' }).click();
    await waitFor('delivery', () => r!.received.length === 1);
    expect(r.received[0]!.verifiedWith).toHaveLength(1);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('button', { name: 'Attempts' }).first().click();
    await page.locator('wsl-app-webhooks tr.attempts pre').first().waitFor();
    const row = page.locator('wsl-app-webhooks tr.attempts');
    await row.locator('.badge.ok').first().waitFor();
    expect((await row.locator('.badge.ok').first().textContent())?.trim()).toBe('200');
    expect(await row.locator('pre').first().textContent()).toContain('"type": "webhook.test"');
    await page.screenshot({ path: artifactPath('console-webhooks.png'), fullPage: true });
    expect(errors).toEqual([]);
  } finally {
    await browser?.close();
    await r?.close();
    await env.dispose();
  }
}, 60_000);
