import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { artifactPath, launchBrowser } from '../helpers/browser';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { ConsoleClient } from '../integration/console-client';

/** The Webhooks tab in Chromium: add an endpoint, send a test event, see it in the delivery log. */
let env: TestEnv;
let s: RunningServer;
let browser: Browser;
let receiver: Server;
const received: string[] = [];

beforeAll(async () => {
  env = await createTestEnv('consolewh');
  s = await env.start();
  browser = await launchBrowser();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      received.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  receiver?.close();
  await env?.dispose();
});

it('adds an endpoint, shows its secret once asked, sends a test event and lists it in the delivery log', async () => {
  const api = new ConsoleClient(s.url);
  const tenant = (await api.signUp('hooks@shop.example', undefined, 'Hooks Org')).tenants[0]!.id;
  const appId = (await api.post(`/tenants/${tenant}/apps`, { name: 'Hooked' })).body.app.id as string;
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await ctx.addCookies([{ name: 'wsl_console', value: api.cookie!.split('=')[1]!, url: `${s.url}/console` }]);
  const p = await ctx.newPage();
  p.on('dialog', (d) => void d.accept());
  await p.goto(`${s.url}/console/t/${tenant}/apps/${appId}/webhooks`);

  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  await p.getByLabel(/^URL/).fill(url);
  await p.getByRole('button', { name: 'Add endpoint' }).click();
  await p.getByText(url).first().waitFor();

  await p.getByRole('button', { name: 'Show secret' }).click();
  await expect.poll(() => p.locator('text=/whsec_[A-Za-z0-9+/=]{20,}/').count()).toBeGreaterThan(0);

  await p.getByRole('button', { name: 'Send test event' }).click();
  await expect.poll(() => received.length, { timeout: 15_000 }).toBe(1);
  expect(JSON.parse(received[0]!).type).toBe('webhook.test');
  await p.reload();
  await p.locator('td', { hasText: 'webhook.test' }).first().waitFor({ timeout: 15_000 });

  await p.evaluate(readFileSync('node_modules/axe-core/axe.min.js', 'utf8'));
  const violations = await p.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document): Promise<{ violations: Array<{ id: string }> }> } }).axe;
    return (await axe.run(document)).violations.map((v) => v.id);
  });
  expect(violations).toEqual([]);
  await p.screenshot({ path: artifactPath('console-webhooks-tab.png'), fullPage: true });
  await ctx.close();
}, 90_000);
