import { expect, it } from 'vitest';
import { axeViolations } from '../helpers/axe';
import { artifactPath, browserStack } from '../helpers/browser';
import { ConsoleClient } from '../integration/console-client';

/** The OpenID Connect tab in Chromium: the issuer, a client added with its secret shown once, a refusal, a deletion. */

const stack = browserStack('consoleoidc');

it('shows the issuer, adds a client with its secret shown once, refuses a bad redirect URI and deletes', async () => {
  const api = new ConsoleClient(stack.server.url);
  const tenant = (await api.signUp('oidc@shop.example', undefined, 'OIDC Org')).tenants[0]!.id;
  const appId = (await api.post(`/tenants/${tenant}/apps`, { name: 'Federated' })).body.app.id as string;
  const ctx = await stack.browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  await ctx.addCookies([{ name: 'wsl_console', value: api.cookie!.split('=')[1]!, url: `${stack.server.url}/console` }]);
  const p = await ctx.newPage();
  p.on('dialog', (d) => void d.accept());
  await p.goto(`${stack.server.url}/console/t/${tenant}/apps/${appId}/oidc`);
  await p.locator('[data-issuer]').waitFor();
  expect(await p.locator('[data-issuer]').textContent()).toBe(`${stack.server.core.config.publicUrl}/apps/${appId}`);

  await p.getByLabel('Name').fill('Next.js site');
  await p.getByLabel(/^Redirect URIs/).fill('http://example.com/callback');
  await p.getByRole('button', { name: 'Add client' }).click();
  await expect.poll(() => p.locator('.field-error').textContent()).toMatch(/https/);

  await p.getByLabel(/^Redirect URIs/).fill('http://localhost:3000/api/auth/callback/wechat');
  await p.getByRole('button', { name: 'Add client' }).click();
  const secret = await p.locator('[data-secret]').textContent();
  expect(secret).toMatch(/^ocs_test_/);
  await p.getByText('http://localhost:3000/api/auth/callback/wechat').waitFor();
  expect(await axeViolations(p)).toEqual([]);
  await p.screenshot({ path: artifactPath('console-oidc-tab.png'), fullPage: true });

  // Shown once: after a reload only its prefix is left.
  await p.reload();
  await p.locator('[data-client]').waitFor();
  expect(await p.locator('[data-secret]').count()).toBe(0);
  expect(await p.content()).not.toContain(secret!);

  await p.getByRole('button', { name: 'Delete' }).click();
  await p.getByText('No test-mode clients yet.').waitFor();
  await ctx.close();
}, 90_000);
