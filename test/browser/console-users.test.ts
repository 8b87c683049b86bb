import { readFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { launchBrowser } from '../helpers/browser';
import { loginInSandbox } from '../helpers/login';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { ConsoleClient } from '../integration/console-client';

/** The Users page's rights actions in Chromium: Export downloads the JSON; Delete asks first. */
let env: TestEnv;
let s: RunningServer;
let browser: Browser;

beforeAll(async () => {
  env = await createTestEnv('consoleusers');
  s = await env.start();
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await env?.dispose();
});

describe('console Users page', () => {
  it('exports a user as JSON, and erases them only after the confirmation', async () => {
    const api = new ConsoleClient(s.url);
    const tenant = (await api.signUp('rights@users.example', 'quartz-lantern-orbit-meadow-41', 'Rights Org')).tenants[0]!.id;
    const created = await api.post(`/tenants/${tenant}/apps`, { name: 'Shop', allowedOrigins: ['https://shop.example.com'] });
    const appId = created.body.app.id as string;
    const alice = await loginInSandbox(s.url, created.body.keys.test, 'o_alice_page');
    const bob = await loginInSandbox(s.url, created.body.keys.test, 'o_bob_page');

    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    await ctx.addCookies([{ name: 'wsl_console', value: api.cookie!.split('=')[1]!, url: `${s.url}/console` }]);
    const page = await ctx.newPage();
    await page.goto(`${s.url}/console/t/${tenant}/apps/${appId}/users`);
    const row = page.locator(`tr[data-user="${alice.user.id}"]`);
    await row.waitFor();

    const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: 'Export' }).click()]);
    expect(download.suggestedFilename()).toBe(`${alice.user.id}.json`);
    const exported = JSON.parse(await readFile((await download.path())!, 'utf8'));
    expect(exported.user).toMatchObject({ id: alice.user.id, openid: 'o_alice_page' });
    expect(exported.logins).toHaveLength(1);

    // The first click only asks; Cancel leaves the user alone.
    await row.getByRole('button', { name: 'Delete…' }).click();
    await row.getByRole('group', { name: 'Confirm erasure' }).waitFor();
    await row.getByRole('button', { name: 'Cancel' }).click();
    expect((await api.get(`/tenants/${tenant}/apps/${appId}/users/${alice.user.id}/export`)).status).toBe(200);

    await row.getByRole('button', { name: 'Delete…' }).click();
    await row.getByRole('button', { name: 'Erase' }).click();
    await page.getByRole('status').filter({ hasText: `${alice.user.id} was erased` }).waitFor();
    await row.waitFor({ state: 'detached' });
    expect((await api.get(`/tenants/${tenant}/apps/${appId}/users/${alice.user.id}/export`)).status).toBe(404);
    expect(await page.locator(`tr[data-user="${bob.user.id}"]`).count()).toBe(1);
    await ctx.close();
  });
});
