import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { browserStack } from '../helpers/browser';
import { loginInSandbox } from '../helpers/login';
import { ConsoleClient } from '../integration/console-client';

/** The Users page's rights actions in Chromium: Export downloads the JSON; Delete asks first. */

const stack = browserStack('consoleusers');

describe('console Users page', () => {
  it('exports a user as JSON, and erases them only after the confirmation', async () => {
    const api = new ConsoleClient(stack.server.url);
    const tenant = (await api.signUp('rights@users.example', 'quartz-lantern-orbit-meadow-41', 'Rights Org')).tenants[0]!.id;
    const created = await api.post(`/tenants/${tenant}/apps`, { name: 'Shop', allowedOrigins: ['https://shop.example.com'] });
    const appId = created.body.app.id as string;
    const alice = await loginInSandbox(stack.server.url, created.body.keys.test, 'o_alice_page');
    const bob = await loginInSandbox(stack.server.url, created.body.keys.test, 'o_bob_page');

    const ctx = await stack.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    await ctx.addCookies([{ name: 'wsl_console', value: api.cookie!.split('=')[1]!, url: `${stack.server.url}/console` }]);
    const page = await ctx.newPage();
    await page.goto(`${stack.server.url}/console/t/${tenant}/apps/${appId}/users`);
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
