/**
 * The sandbox phone (/sandbox/phone?scene=…) in real Chromium: the web twin of the
 * mini-program confirm page, running the same flow.js and texts against the real server.
 */
import { eq } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apps as appsTable } from '../../server/db/schema/index';
import type { RunningServer } from '../../server/main';
import { axeViolations } from '../helpers/axe';
import { artifactPath, launchBrowser } from '../helpers/browser';
import { tabToVisibleFocus } from '../helpers/focus';
import { createTestApp, openSocket, testScan, type TestSocket } from '../helpers/login';
import { createTestEnv, type TestEnv } from '../helpers/server';

let env: TestEnv;
let server: RunningServer;
let browser: Browser;
let app: Awaited<ReturnType<typeof createTestApp>>;

beforeAll(async () => {
  env = await createTestEnv('phone');
  server = await env.start();
  app = await createTestApp(server, { displayName: 'Acme Shop' });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await env?.dispose();
});

async function newSession(key = app.keys.test.publishable): Promise<{ sock: TestSocket; scene: string; match: string }> {
  const sock = await openSocket(server.url, key);
  const f = await sock.next('session');
  return { sock, scene: String(f.session), match: String(f.match) };
}

/** A phone: its own browser context (so its own localStorage, i.e. its own sandbox WeChat user). */
async function openPhone(locale: string, o: { bypassCSP?: boolean } = {}): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ locale, viewport: { width: 390, height: 844 }, ...o });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  // A CSP violation or a failed asset shows up as a console error.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource.*(409|410|404)/.test(m.text())) problems.push(m.text());
  });
  return { context, page, problems };
}

const visit = (page: Page, scene: string) => page.goto(`${server.url}/sandbox/phone?scene=${encodeURIComponent(scene)}`);
const state = (page: Page, s: string) => page.waitForSelector(`body[data-state="${s}"]`);

describe('the sandbox phone page', () => {
  it('shows the request, shares avatar and nickname, and logs the browser in', async () => {
    const { sock, scene, match } = await newSession();
    const { context, page, problems } = await openPhone('en-US');
    const res = await visit(page, scene);
    const csp = res!.headers()['content-security-policy']!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    await state(page, 'review');
    await sock.next('scanned');

    expect(await page.textContent('.sandbox-note')).toContain('This is the sandbox phone');
    expect(await page.textContent('#site-name')).toBe('Acme Shop');
    expect(await page.textContent('#v-origin')).toBe('https://shop.example.com');
    expect(await page.textContent('#v-device')).toMatch(/Chrome [\d.]+ on macOS/);
    expect(await page.textContent('#match')).toBe(match);
    expect(await page.textContent('.warning')).toContain('Make sure this number matches');
    expect(await page.title()).toBe('Confirm login');

    await page.setInputFiles('#avatar-input', { name: 'me.png', mimeType: 'image/png', buffer: await QRCode.toBuffer('me') });
    await page.waitForSelector('#avatar-preview:not([hidden])');
    await page.waitForSelector('#profile-notice[hidden]', { state: 'attached' });
    await page.fill('#nickname', 'Web Ming');
    await page.screenshot({ path: artifactPath('phone-review.png'), fullPage: true });
    await page.click('#btn-confirm');
    await state(page, 'done');
    expect(await page.textContent('#result-title')).toBe('You are logged in');

    const success = await sock.next('success');
    const user = success.user as Record<string, string>;
    expect(user.name).toBe('Web Ming');
    expect(user.picture).toMatch(/\/v1\/avatars\/avt_/);
    expect(user.openid).toMatch(/^o[A-Za-z0-9_-]{27}$/);

    await page.click('#btn-back');
    await page.waitForSelector('#closed-note:not([hidden])');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('is one sandbox user per browser: a second login keeps the same openid', async () => {
    const { context, page } = await openPhone('en-US');
    const openids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { sock, scene } = await newSession();
      await visit(page, scene);
      await state(page, 'review');
      await page.click('#btn-confirm');
      await state(page, 'done');
      await sock.next('scanned');
      openids.push(String(((await sock.next('success')).user as Record<string, string>).openid));
    }
    expect(openids[1]).toBe(openids[0]);
    await context.close();
  });

  it('cancels for real, in Chinese on a Chinese phone', async () => {
    const { sock, scene } = await newSession();
    const { context, page, problems } = await openPhone('zh-CN');
    await visit(page, scene);
    await state(page, 'review');
    expect(await page.textContent('#btn-cancel')).toBe('取消');
    expect(await page.textContent('#asks')).toBe('Acme Shop 请求使用你的微信账号登录');
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    await page.click('#btn-cancel');
    await state(page, 'cancelled');
    expect(await page.textContent('#result-title')).toBe('已取消登录');
    expect(await resultMark(page)).toBe('✕');
    await sock.next('scanned');
    expect(await sock.next('cancelled')).toEqual({ type: 'cancelled' });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('says a code was scanned by someone else, and that an expired code needs a refresh', async () => {
    const { context, page } = await openPhone('en-US');
    const taken = await newSession();
    await testScan(server.url, app.keys.test.secret, taken.scene, 'o_someone_else');
    await visit(page, taken.scene);
    await state(page, 'error');
    expect(await page.textContent('#result-title')).toBe('Someone else already scanned this code');
    expect(await page.isHidden('#btn-retry')).toBe(true);

    const short = await createTestApp(server, { name: 'Short' });
    await server.core.db.update(appsTable).set({ sessionTtlSeconds: 1 }).where(eq(appsTable.id, short.app.id));
    const late = await newSession(short.keys.test.publishable);
    await late.sock.next('expired', 5_000);
    await visit(page, late.scene);
    await state(page, 'error');
    expect(await page.textContent('#result-title')).toBe('This code has expired');
    expect(await page.textContent('#result-body')).toBe('Refresh the code on your computer, then scan it again.');
    await context.close();
  });

  it('offers a retry after a network failure, and the retry works', async () => {
    const { sock, scene } = await newSession();
    const { context, page } = await openPhone('en-US');
    await page.route('**/v1/mp/scan', (route) => route.abort('internetdisconnected'));
    await visit(page, scene);
    await state(page, 'error');
    expect(await page.textContent('#result-title')).toBe('No connection');
    await page.unroute('**/v1/mp/scan');
    await page.click('#btn-retry');
    await state(page, 'review');
    await page.click('#btn-confirm');
    await state(page, 'done');
    await sock.next('scanned');
    expect((await sock.next('success')).type).toBe('success');
    await context.close();
  });

  it('explains a link without a usable scene', async () => {
    const { context, page } = await openPhone('en-US');
    await page.goto(`${server.url}/sandbox/phone`);
    await state(page, 'error');
    expect(await page.textContent('#result-title')).toBe('This code cannot be read');
    await context.close();
  });

  it('passes axe and works by keyboard alone, with a visible focus ring on every control, in Chinese', async () => {
    const { sock, scene, match } = await newSession();
    // (CSP bypassed only so that axe-core can be injected.)
    const { context, page, problems } = await openPhone('zh-CN', { bypassCSP: true });
    await visit(page, scene);
    await state(page, 'review');
    // The server names a loopback visitor's place in English; the page says it in the phone's language.
    expect(await page.textContent('#v-location')).toBe('本机 (localhost)');
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('phone-review-zh.png'), fullPage: true });

    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      seen.push(await tabToVisibleFocus(page));
      if (seen.at(-1) === 'input#nickname') await page.keyboard.type('键盘用户');
    }
    expect(seen).toEqual(['input#avatar-input', 'input#nickname', 'button#btn-confirm', 'button#btn-cancel']);
    expect(await tabToVisibleFocus(page, 'Shift+Tab')).toBe('button#btn-confirm');
    await page.keyboard.press('Enter');
    await state(page, 'done');
    expect(await resultMark(page)).toBe('✓');
    expect(await page.textContent('#result-title')).toBe('登录成功');
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('phone-done-zh.png'), fullPage: true });
    await sock.next('scanned');
    expect(((await sock.next('success')).user as Record<string, string>).name).toBe('键盘用户');
    expect(match).toMatch(/^\d\d$/);
    expect(problems).toEqual([]);
    await context.close();
  });
});

/** The glyph drawn in the result circle (a CSS ::after, so it is decoration beside the title). */
function resultMark(page: Page): Promise<string> {
  return page.evaluate(() => getComputedStyle(document.getElementById('result-icon')!, '::after').content.replace(/"/g, ''));
}

describe('the sandbox phone page for a site that asks for the phone number', () => {
  async function siteAsking(setting: 'optional' | 'required') {
    const site = await createTestApp(server, { displayName: 'Phone Shop' });
    await server.core.db.update(appsTable).set({ phoneNumber: setting }).where(eq(appsTable.id, site.app.id));
    return site;
  }

  it('required: says so before consent, the tester picks the number, and the token carries it', async () => {
    const site = await siteAsking('required');
    const { sock, scene } = await newSession(site.keys.test.publishable);
    const { context, page, problems } = await openPhone('en-US');
    await visit(page, scene);
    await state(page, 'review');
    expect(await page.textContent('#phone .phone-asks')).toBe('This site also asks for your phone number');
    expect(await page.textContent('#phone-hint')).toBe('You cannot log in to this site without it.');
    expect(await page.isDisabled('#btn-confirm')).toBe(true);

    await page.click('#btn-phone');
    await page.fill('#sandbox-number', '13912345678');
    await page.screenshot({ path: artifactPath('phone-number-dialog.png'), fullPage: true });
    await page.click('#phone-allow');
    await page.waitForSelector('#phone-notice:not([hidden])');
    expect(await page.textContent('#phone-notice')).toContain('will be shared');
    expect(await page.textContent('#btn-confirm')).toBe('Share phone number and log in');
    await page.click('#btn-confirm');
    await state(page, 'done');
    await sock.next('scanned');
    const success = await sock.next('success');
    const claims = JSON.parse(Buffer.from(String(success.token).split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ phone_number: '+8613912345678', phone_number_verified: true });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('required: denying the number cancels the login on the phone and in the browser', async () => {
    const site = await siteAsking('required');
    const { sock, scene } = await newSession(site.keys.test.publishable);
    const { context, page, problems } = await openPhone('en-US');
    await visit(page, scene);
    await state(page, 'review');
    await page.click('#btn-phone');
    await page.click('#phone-deny');
    await state(page, 'cancelled');
    expect(await page.textContent('#result-body')).toContain('This site needs your phone number to log you in');
    await sock.next('scanned');
    expect(await sock.next('cancelled')).toEqual({ type: 'cancelled' });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('optional: the visitor logs in without sharing it', async () => {
    const site = await siteAsking('optional');
    const { sock, scene } = await newSession(site.keys.test.publishable);
    const { context, page } = await openPhone('zh-CN');
    await visit(page, scene);
    await state(page, 'review');
    expect(await page.textContent('#phone-hint')).toBe('不提供手机号也可以登录。');
    expect(await page.isDisabled('#btn-confirm')).toBe(false);
    await page.click('#btn-confirm');
    await state(page, 'done');
    await sock.next('scanned');
    const claims = JSON.parse(Buffer.from(String((await sock.next('success')).token).split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).not.toHaveProperty('phone_number');
    await context.close();
  });
});
