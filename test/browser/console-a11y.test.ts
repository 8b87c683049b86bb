import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { axeViolations } from '../helpers/axe';
import { browserStack } from '../helpers/browser';
import { ConsoleClient } from '../integration/console-client';

/** The console with axe-core on every page, and a site owner who uses only the keyboard. */

const PASSWORD = 'quartz-lantern-orbit-meadow-41';

const stack = browserStack('consolea11y');

/** The element that has the keyboard, through shadow roots: its tag, id and accessible text. */
async function focused(p: Page): Promise<string> {
  return p.evaluate(() => {
    let el: Element | null = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    return `${el?.tagName.toLowerCase()}#${el?.id ?? ''} ${(el?.textContent ?? '').trim().slice(0, 40)}`;
  });
}

/** Tab until the focused element matches, as a keyboard user would (bounded). */
async function tabTo(p: Page, match: RegExp, limit = 40): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await p.keyboard.press('Tab');
    if (match.test(await focused(p))) return;
  }
  throw new Error(`never reached ${match} with Tab; last: ${await focused(p)}`);
}

describe('console accessibility', () => {
  it('has no axe-core violations on any page', async () => {
    const api = new ConsoleClient(stack.server.url);
    const tenant = (await api.signUp('axe@a11y.example', PASSWORD, 'Axe Org')).tenants[0]!.id;
    const appId = (await api.post(`/tenants/${tenant}/apps`, { name: 'Axe shop', allowedOrigins: ['https://shop.example.com'] })).body.app.id as string;
    const invite = (await api.post(`/tenants/${tenant}/invitations`, { role: 'viewer' })).body.url as string;

    // The console's CSP refuses injected scripts, axe included; the check runs beside it.
    const anon = await (await stack.browser.newContext({ bypassCSP: true })).newPage();
    for (const path of ['/console/signin', '/console/signup']) {
      await anon.goto(`${stack.server.url}${path}`);
      await anon.getByRole('button').first().waitFor();
      expect(await axeViolations(anon), path).toEqual([]);
    }
    await anon.goto(invite);
    await anon.getByRole('heading', { name: 'Join Axe Org' }).waitFor();
    expect(await axeViolations(anon), 'invite').toEqual([]);
    await anon.close();

    const ctx = await stack.browser.newContext({ bypassCSP: true });
    await ctx.addCookies([{ name: 'wsl_console', value: api.cookie!.split('=')[1]!, url: `${stack.server.url}/console` }]);
    const page = await ctx.newPage();
    const pages = [
      `/console/t/${tenant}/apps`, `/console/t/${tenant}/team`, '/console/organisations/new',
      ...['settings', 'keys', 'install', 'users', 'activity', 'webhooks', 'oidc'].map((tab) => `/console/t/${tenant}/apps/${appId}/${tab}`),
    ];
    for (const path of pages) {
      await page.goto(`${stack.server.url}${path}`);
      await page.locator('main h1, main h2').first().waitFor();
      await page.waitForFunction(() => !document.querySelector('wsl-console')?.shadowRoot?.querySelector('[aria-busy=true]'));
      expect(await axeViolations(page), path).toEqual([]);
    }
    await ctx.close();
  }, 180_000);

  it('lets a site owner sign in, create an app and open its settings with the keyboard alone', async () => {
    const api = new ConsoleClient(stack.server.url);
    await api.signUp('keys@a11y.example', PASSWORD, 'Keyboard Org');
    const page = await stack.browser.newPage();
    await page.goto(`${stack.server.url}/console/signin`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();

    await tabTo(page, /^input#email/);
    await page.keyboard.type('keys@a11y.example');
    await tabTo(page, /^input#password/);
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Apps' }).waitFor();

    await tabTo(page, /^button#new-app/);
    await page.keyboard.press('Enter');
    expect(await focused(page)).toMatch(/^input#name/);
    await page.keyboard.type('Keyboard shop');
    await page.keyboard.press('Enter');
    await expect.poll(() => focused(page)).toMatch(/^h2#created-title/);

    await tabTo(page, /^button#\s+Done/);
    await page.keyboard.press('Enter');
    await tabTo(page, /^a# Keyboard shop/);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.title()).toMatch(/^Settings · Keyboard shop/);
    // The focus ring is visible on the focused control, in a colour with ≥ 3:1 contrast on white.
    await tabTo(page, /^input#name/);
    const outline = await page.evaluate(() => {
      let el: Element | null = document.activeElement;
      while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
      const cs = getComputedStyle(el!);
      return { style: cs.outlineStyle, width: cs.outlineWidth, color: cs.outlineColor };
    });
    expect(outline.style).toBe('solid');
    expect(outline.color).toBe('rgb(5, 129, 63)');
    await page.close();
  }, 120_000);
});
