import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import jwt from 'jsonwebtoken';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { artifactPath, launchBrowser } from '../helpers/browser';
import { postJson, testScan } from '../helpers/login';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { ConsoleClient } from '../integration/console-client';

/**
 * A site owner's first session in the built console, in Chromium, against the real server:
 * sign up → create a test-mode app → copy the snippet → finish a sandbox login in the live
 * preview (the phone's part over HTTP, as a tenant's own tests would) → the user and the
 * event appear (the event live, over SSE) → rotate the signing key → the old token still
 * verifies and the next login is signed with the new key. Screenshots go to test-artifacts/.
 */
let env: TestEnv;
let s: RunningServer;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;

beforeAll(async () => {
  env = await createTestEnv('consolebrowser');
  s = await env.start();
  browser = await launchBrowser();
  ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.url });
  page = await ctx.newPage();
  page.on('dialog', (d) => void d.accept());
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await env?.dispose();
});

async function shot(p: Page, name: string) {
  await p.screenshot({ path: artifactPath(`console-${name}.png`), fullPage: true });
}

/** The session id of the code the preview shows: it is in the code image's URL. */
async function previewSessionId(p: Page): Promise<string> {
  await expect.poll(() => p.locator('[data-preview-state]').textContent(), { timeout: 15_000 }).toBe('ready');
  const src = await p.locator('wechat-scan-login img[part=code]').getAttribute('src');
  const m = /\/v1\/sessions\/([A-Za-z0-9_-]+)\/qr/.exec(src ?? '');
  if (!m) throw new Error(`unexpected code image URL: ${src}`);
  return m[1]!;
}

/** The phone's part: scan (test helper with the app's test secret key) and confirm. */
async function phoneConfirms(sessionId: string, secretKey: string, openid: string) {
  const scan = await testScan(s.url, secretKey, sessionId, openid);
  expect(scan.status, JSON.stringify(scan.body)).toBe(200);
  const confirm = await postJson(`${s.url}/v1/mp/confirm`, { scene: sessionId, ticket: scan.body.ticket, profile: { nickname: '<b>Mallory</b> & co' } });
  expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);
}

async function jwksKey(appId: string, kid: string) {
  const jwks = (await (await fetch(`${s.url}/apps/${appId}/.well-known/jwks.json`)).json()) as { keys: Array<JsonWebKey & { kid: string }> };
  const jwk = jwks.keys.find((k) => k.kid === kid);
  return jwk ? createPublicKey({ key: jwk, format: 'jwk' }) : null;
}

/** Sign-up ends at "check your email": follow the mailed link (dev mailbox), then sign in. */
async function confirmAndSignIn(p: Page, email: string, password: string) {
  await p.getByRole('heading', { name: 'Check your email' }).waitFor();
  const token = await new ConsoleClient(s.url).mailedToken(email, 'verify');
  await p.goto(`${s.url}/console/verify?token=${token}`);
  await p.getByRole('heading', { name: 'Email confirmed' }).waitFor();
  await p.getByRole('link', { name: 'Sign in' }).click();
  await p.getByLabel('Email').fill(email);
  await p.getByLabel('Password').fill(password);
  await p.getByRole('button', { name: 'Sign in' }).click();
}

describe('console in a browser', () => {
  it('takes a site owner from sign-up to a verified sandbox login and a key rotation', async () => {
    // Signed out: any console URL lands on sign-in.
    await page.goto(`${s.url}/console/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shot(page, 'signin');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Email').fill('owner@shop.example');
    await page.getByLabel('Organisation').fill('Shop Inc');
    await page.getByLabel('Password').fill('a long enough password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await confirmAndSignIn(page, 'owner@shop.example', 'a long enough password');

    // Apps: empty state, then a new app whose secret key is shown once.
    await page.getByText('No apps yet').waitFor();
    await page.getByRole('button', { name: 'New app' }).click();
    await page.getByLabel('Name').fill('Shop');
    await page.getByLabel('Allowed origins').fill('https://shop.example.com');
    await page.getByRole('button', { name: 'Create app' }).click();
    const pk = (await page.locator('code[data-key=pk]').textContent())!.trim();
    const sk = (await page.locator('code[data-key=sk]').textContent())!.trim();
    expect(pk).toMatch(/^pk_test_/);
    expect(sk).toMatch(/^sk_test_/);
    await shot(page, 'apps');

    // Install: copy the snippet, then log in with the live preview.
    await page.getByRole('link', { name: 'Install it on your site' }).click();
    await page.locator('pre[data-snippet=page]').waitFor();
    await page.getByRole('button', { name: 'Copy snippet' }).click();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toContain(`<wechat-scan-login site-key="${pk}"></wechat-scan-login>`);
    expect(copied).toContain(`${s.url}/widget.js`);
    const appId = /\/apps\/(app_[A-Za-z0-9]+)\//.exec(page.url())![1]!;

    const first = await previewSessionId(page);
    await shot(page, 'install');
    await phoneConfirms(first, sk, 'o_console_browser_1');
    await page.locator('[data-preview-sub]').waitFor();
    const oldToken = (await page.locator('[data-preview-token]').textContent())!.trim();
    const oldKid = (await page.locator('[data-preview-kid]').textContent())!.trim();
    const userId = (await page.locator('[data-preview-sub]').textContent())!.trim();
    expect(userId).toMatch(/^usr_/);
    expect(jwt.decode(oldToken, { complete: true })!.header.kid).toBe(oldKid);
    await shot(page, 'install-signed-in');

    // Users: the new user, with the stranger's nickname as text, not markup.
    await page.getByRole('link', { name: 'Users' }).click();
    const row = page.locator(`tr[data-user="${userId}"]`);
    await row.waitFor();
    await expect.poll(() => row.textContent()).toContain('<b>Mallory</b> & co');
    expect(await page.locator('b', { hasText: 'Mallory' }).count()).toBe(0);
    await page.getByLabel('Search').fill('Mallory');
    await page.getByRole('button', { name: 'Search' }).click();
    await row.waitFor();
    await shot(page, 'users');

    // Activity: the first login is listed; a second one, made in another tab, arrives live.
    await page.getByRole('link', { name: 'Activity' }).click();
    await page.locator('tr[data-event]').first().waitFor();
    expect(await page.locator('tr[data-event]').count()).toBe(1);
    await page.getByText('● live').waitFor();
    const other = await ctx.newPage();
    await other.goto(`${s.url}/console/t/${await tenantOf(page)}/apps/${appId}/install`);
    await phoneConfirms(await previewSessionId(other), sk, 'o_console_browser_2');
    await other.locator('[data-preview-sub]').waitFor();
    await other.close();
    await expect.poll(() => page.locator('tr[data-event]').count(), { timeout: 15_000 }).toBe(2);
    await expect.poll(() => page.locator('wsl-logins-chart p').first().textContent(), { timeout: 10_000 }).toMatch(/2\s+login attempts/);
    await shot(page, 'activity');

    // Keys: rotate the signing key.
    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByRole('button', { name: 'Rotate signing key' }).click();
    await page.getByText('is active').waitFor();
    const newKid = (await page.locator('.success code').textContent())!.trim();
    expect(newKid).not.toBe(oldKid);
    await shot(page, 'keys');

    // The old token still verifies: its key is still published, and the server API accepts it.
    const oldKey = await jwksKey(appId, oldKid);
    expect(oldKey).not.toBeNull();
    const claims = jwt.verify(oldToken, oldKey!, { algorithms: ['ES256'], audience: appId, issuer: `${s.url}/apps/${appId}` }) as jwt.JwtPayload;
    expect(claims.sub).toBe(userId);
    const verified = await postJson(`${s.url}/v1/tokens/verify`, { token: oldToken }, { authorization: `Bearer ${sk}` });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);

    // A new login is signed with the new key.
    await page.getByRole('link', { name: 'Install' }).click();
    await phoneConfirms(await previewSessionId(page), sk, 'o_console_browser_1');
    await page.locator('[data-preview-kid]').waitFor();
    expect((await page.locator('[data-preview-kid]').textContent())!.trim()).toBe(newKid);
    const newToken = (await page.locator('[data-preview-token]').textContent())!.trim();
    expect(jwt.verify(newToken, (await jwksKey(appId, newKid))!, { algorithms: ['ES256'], audience: appId })).toMatchObject({ sub: userId });

    // The other main pages, for the artifacts; and a phone-sized screen.
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Save settings' }).waitFor();
    await shot(page, 'settings');
    await page.getByRole('link', { name: 'Team' }).click();
    await page.getByRole('button', { name: 'Create invitation link' }).click();
    await page.locator('[data-invite-link]').waitFor();
    await shot(page, 'team');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${s.url}/console/t/${await tenantOf(page)}/apps/${appId}/activity`);
    await page.locator('tr[data-event]').first().waitFor();
    await shot(page, 'activity-phone');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  }, 180_000);
});

/**
 * axe-core over the page, open shadow roots included. Evaluated through the DevTools
 * protocol, so the console's CSP (scripts from 'self' only) stays on while it runs.
 */
async function axeViolations(p: Page): Promise<string[]> {
  await p.evaluate(readFileSync('node_modules/axe-core/axe.min.js', 'utf8'));
  return p.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document): Promise<{ violations: Array<{ id: string; nodes: Array<{ target: unknown }> }> }> } }).axe;
    const r = await axe.run(document);
    return r.violations.map((v) => `${v.id}: ${JSON.stringify(v.nodes.map((n) => n.target))}`);
  });
}

describe('console invitations in a browser', () => {
  it('lets an invited person sign up from the link straight into the organisation, as a viewer who only reads', async () => {
    const owner = new ConsoleClient(s.url);
    const tenant = (await owner.signUp('boss@team.example', undefined, 'Team Example')).tenants[0]!.id;
    const appId = (await owner.post(`/tenants/${tenant}/apps`, { name: 'Team app' })).body.app.id as string;
    const link = (await owner.post(`/tenants/${tenant}/invitations`, { role: 'viewer' })).body.url as string;
    expect(link.startsWith(`${s.url}/console/invite#`)).toBe(true);

    const guest = await browser.newContext({ viewport: { width: 1024, height: 800 } });
    const p = await guest.newPage();
    await p.goto(link);
    await p.getByRole('heading', { name: 'Join Team Example' }).waitFor();
    await p.getByText('boss@team.example invites you').waitFor();
    await p.getByRole('link', { name: 'Create an account' }).click();
    await p.getByLabel('Email').fill('newbie@team.example');
    // No organisation of their own to name: the new account joins the inviting one.
    expect(await p.getByLabel('Organisation').count()).toBe(0);
    await p.getByLabel('Password').fill('another long password');
    await p.getByRole('button', { name: 'Create account' }).click();
    await confirmAndSignIn(p, 'newbie@team.example', 'another long password');
    await p.waitForURL(`${s.url}/console/t/${tenant}/apps`);
    await p.getByRole('link', { name: 'Team app' }).click();
    await p.getByText('settings are read-only').waitFor();
    expect(await p.getByRole('button', { name: 'Save settings' }).count()).toBe(0);
    expect(await p.getByRole('button', { name: 'Delete app' }).count()).toBe(0);
    await p.getByRole('link', { name: 'Keys' }).click();
    await p.getByRole('heading', { name: 'Secret keys' }).waitFor();
    expect(await p.getByRole('button', { name: 'Create secret key' }).count()).toBe(0);
    expect(await p.getByRole('button', { name: 'Rotate signing key' }).count()).toBe(0);
    expect(p.url()).toContain(`/apps/${appId}/keys`);
    // Only the organisation they joined: signing up from an invitation creates no empty one.
    expect(await p.getByRole('combobox', { name: 'Organisation' }).count()).toBe(0);
    await p.getByText('Team Example', { exact: true }).waitFor();
    await guest.close();
  }, 120_000);
});

describe('console accessibility', () => {
  it('has no axe-core violations on the main pages', async () => {
    const api = new ConsoleClient(s.url);
    const me = await api.signUp('a11y@shop.example', undefined, 'A11y Org');
    const tenant = me.tenants[0]!.id;
    const appId = (await api.post(`/tenants/${tenant}/apps`, { name: 'Accessible' })).body.app.id as string;
    const a11y = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await a11y.newPage();
    await p.goto(`${s.url}/console/signin`);
    await p.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await axeViolations(p), 'signin').toEqual([]);
    await a11y.addCookies([{ name: 'wsl_console', value: api.cookie!.split('=')[1]!, url: `${s.url}/console` }]);
    const pages: Array<[string, string]> = [
      ['apps', `t/${tenant}/apps`], ['settings', `t/${tenant}/apps/${appId}/settings`], ['keys', `t/${tenant}/apps/${appId}/keys`],
      ['install', `t/${tenant}/apps/${appId}/install`], ['users', `t/${tenant}/apps/${appId}/users`], ['activity', `t/${tenant}/apps/${appId}/activity`], ['team', `t/${tenant}/team`],
    ];
    for (const [name, path] of pages) {
      await p.goto(`${s.url}/console/${path}`);
      await expect.poll(() => p.locator('[aria-busy=true]').count(), { timeout: 10_000 }).toBe(0);
      await p.locator('main h1, main h2').first().waitFor();
      expect(await axeViolations(p), name).toEqual([]);
    }
    await a11y.close();
  }, 120_000);
});

async function tenantOf(p: Page): Promise<string> {
  return /\/console\/t\/(ten_[A-Za-z0-9]+)\//.exec(p.url())![1]!;
}
