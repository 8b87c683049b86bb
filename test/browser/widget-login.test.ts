import { createPublicKey } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { eq } from 'drizzle-orm';
import jwt from 'jsonwebtoken';
import type { Browser, BrowserContext, Page, WebSocket as PwSocket } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apps as appsTable } from '../../server/db/schema/index';
import type { RunningServer } from '../../server/main';
import { artifactPath, launchBrowser } from '../helpers/browser';
import { focusRing, tabToVisibleFocus } from '../helpers/focus';
import { createTestApp, postJson, testScan } from '../helpers/login';
import { createTestEnv, type TestEnv } from '../helpers/server';

/**
 * The built widget.js, served by the real server, on tenant pages served by a little server of
 * this file's own: at SITE (localhost, which test keys allow) or at EVIL (127.0.0.2, another
 * origin on loopback, so Chromium's local-network rules don't get in the way).
 */
let SITE: string;
let EVIL: string;
let siteServer: Server;
const sitePages = new Map<string, { html: string; csp?: string }>();
const EVENTS = ['login', 'scanned', 'cancelled', 'expired', 'failed', 'statechange', 'error'] as const;

let env: TestEnv;
let server: RunningServer;
let browser: Browser;
let upgrades: UpgradeControl;
type TestApp = Awaited<ReturnType<typeof createTestApp>>;
let app: TestApp;
/** A second app whose codes live 3 s, for expiry. */
let shortApp: TestApp;

interface UpgradeControl {
  /** `refuse`: WebSocket upgrades fail at the TCP level, as behind a proxy that blocks them. */
  mode: 'pass' | 'refuse';
  /** Cuts every upgraded connection, as a load balancer or a crash would. */
  dropAll(): void;
}

/** Puts a switch in front of the server's own upgrade handler. */
function controlUpgrades(http: Server): UpgradeControl {
  const original = http.listeners('upgrade') as Array<(req: IncomingMessage, socket: Duplex, head: Buffer) => void>;
  http.removeAllListeners('upgrade');
  const live = new Set<Duplex>();
  const ctl: UpgradeControl = {
    mode: 'pass',
    dropAll: () => {
      for (const s of live) s.destroy();
      live.clear();
    },
  };
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (ctl.mode === 'refuse') return void socket.destroy();
    live.add(socket);
    socket.on('close', () => live.delete(socket));
    for (const l of original) l.call(http, req, socket, head);
  });
  return ctl;
}

beforeAll(async () => {
  siteServer = createServer((req, res) => {
    const p = sitePages.get(req.url ?? '');
    if (!p) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...(p.csp && { 'content-security-policy': p.csp }) }).end(p.html);
  });
  await new Promise<void>((ok) => siteServer.listen(0, ok));
  const sitePort = (siteServer.address() as AddressInfo).port;
  SITE = `http://localhost:${sitePort}`;
  EVIL = `http://127.0.0.2:${sitePort}`;
  env = await createTestEnv('widget-browser');
  server = await env.start();
  upgrades = controlUpgrades(server.http!);
  app = await createTestApp(server);
  shortApp = await createTestApp(server, { name: 'Quick Shop' });
  await server.core.db.update(appsTable).set({ sessionTtlSeconds: 3 }).where(eq(appsTable.id, shortApp.app.id));
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await env?.dispose();
  siteServer?.close();
});

interface Site {
  ctx: BrowserContext;
  page: Page;
  sockets: PwSocket[];
  pageErrors: string[];
  /** console.error lines from the element (the page's own resource errors left out). */
  consoleErrors: string[];
  requests: string[];
}

function hostPage(attrs: string, o: { lang?: string; before?: string } = {}): string {
  return `<!doctype html><html lang="${o.lang ?? 'en'}"><head><meta charset="utf-8"><title>Shop</title>
<script type="module" src="${server.url}/widget.js"></script></head>
<body><main><h1>Shop</h1>${o.before ?? ''}<wechat-scan-login ${attrs}></wechat-scan-login></main></body></html>`;
}

/** A strict policy: no 'unsafe-inline' anywhere, scripts, images and sockets only from the service. */
function strictCsp(): string {
  const ws = server.url.replace(/^http/, 'ws');
  return `default-src 'none'; script-src ${server.url}; style-src 'self'; img-src ${server.url}; connect-src ${server.url} ${ws}`;
}

async function openSite(html: string, o: { origin?: string; csp?: string; userAgent?: string } = {}): Promise<Site> {
  const ctx = await browser.newContext({ colorScheme: 'light', ...(o.userAgent && { userAgent: o.userAgent }) });
  const origin = o.origin ?? SITE;
  const path = `/page-${sitePages.size}`;
  sitePages.set(path, { html, csp: o.csp });
  await ctx.addInitScript((names) => {
    const w = window as unknown as { __events: Array<{ type: string; detail: unknown }>; __csp: string[] };
    w.__events = [];
    w.__csp = [];
    for (const n of names) document.addEventListener(n, (e) => w.__events.push({ type: n, detail: (e as CustomEvent).detail }));
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  }, [...EVENTS]);
  const page = await ctx.newPage();
  const site: Site = { ctx, page, sockets: [], pageErrors: [], consoleErrors: [], requests: [] };
  page.on('websocket', (ws) => site.sockets.push(ws));
  page.on('console', (m) => m.type() === 'error' && m.text().includes('wechat-scan-login') && site.consoleErrors.push(m.text()));
  page.on('pageerror', (e) => site.pageErrors.push(String(e)));
  page.on('request', (r) => site.requests.push(`${r.method()} ${r.url()}`));
  await page.goto(`${origin}${path}`);
  return site;
}

const el = (page: Page) => page.locator('wechat-scan-login');

function waitState(page: Page, state: string, timeout = 15_000) {
  return page.waitForFunction((s) => document.querySelector('wechat-scan-login')?.state === s, state, { timeout });
}

async function sessionIdOf(page: Page): Promise<string> {
  return page.evaluate(() => document.querySelector('wechat-scan-login')!.sessionId!);
}

async function events(page: Page): Promise<Array<{ type: string; detail: any }>> {
  return page.evaluate(() => (window as unknown as { __events: Array<{ type: string; detail: unknown }> }).__events);
}

const states = async (page: Page) => (await events(page)).filter((e) => e.type === 'statechange').map((e) => e.detail.state as string);

/** The element in both colour schemes, as test artifacts. */
async function shoot(page: Page, name: string) {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await el(page).screenshot({ path: artifactPath(`widget-${name}-${colorScheme}.png`), animations: 'disabled' });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** axe-core over the whole page (it walks open shadow roots) in both colour schemes. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: 'node_modules/axe-core/axe.min.js' });
  const found: string[] = [];
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const v = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(ctx: Document): Promise<{ violations: Array<{ id: string; nodes: Array<{ target: unknown }> }> }> } }).axe;
      const r = await axe.run(document);
      return r.violations.map((x) => `${x.id}: ${JSON.stringify(x.nodes.map((n) => n.target))}`);
    });
    found.push(...v.map((x) => `${colorScheme} ${x}`));
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return found;
}

async function verifyWithJwks(token: string, appId: string) {
  const jwks = (await (await fetch(`${server.url}/apps/${appId}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, string>> };
  const { header } = jwt.decode(token, { complete: true })!;
  const jwk = jwks.keys.find((k) => k.kid === header.kid)!;
  return jwt.verify(token, createPublicKey({ key: jwk, format: 'jwk' }), { algorithms: ['ES256'], audience: appId }) as jwt.JwtPayload;
}

/** Plays the phone with the sandbox test helper, then confirms. */
async function scanAndConfirm(base: string, a: TestApp, sessionId: string) {
  const scan = await testScan(base, a.keys.test.secret, sessionId, 'o_widget_user');
  expect(scan.status).toBe(200);
  const confirm = await postJson(`${base}/v1/mp/confirm`, { scene: sessionId, ticket: scan.body.ticket, profile: { nickname: 'Wei' } });
  expect(confirm.status).toBe(200);
  return scan.body;
}

async function openSocketsOnServer(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^wsl_open_sockets(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? NaN);
}

describe('<wechat-scan-login> against the real server', () => {
  it('logs in end to end with the sandbox phone page, the match number agreeing on both screens', async () => {
    const site = await openSite(hostPage(`site-key="${app.keys.test.publishable}"`), { csp: strictCsp() });
    const { page } = site;
    await waitState(page, 'ready');
    // The code image really loaded, from the server's relative-or-absolute qr URL.
    const img = page.locator('wechat-scan-login [part=code]');
    await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0)).toBe(true);
    expect(await page.locator('wechat-scan-login [part=status]').textContent()).toBe('Scan the code with WeChat');
    expect(await page.locator('wechat-scan-login [part=status]').getAttribute('role')).toBe('status');
    // Styled by the constructable stylesheet under a CSP without 'unsafe-inline'.
    expect(await page.locator('wechat-scan-login [part=base]').evaluate((b) => getComputedStyle(b).borderTopLeftRadius)).toBe('12px');
    await shoot(page, 'ready');

    const sessionId = await sessionIdOf(page);
    const phoneCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const phone = await phoneCtx.newPage();
    await phone.goto(`${server.url}/sandbox/phone?scene=${sessionId}`);
    const phoneMatch = (await phone.locator('#match').textContent({ timeout: 15_000 }))!.trim();
    await phone.locator('#match').filter({ hasText: /\d\d/ }).waitFor();
    await waitState(page, 'scanned');
    const widgetMatch = (await page.locator('wechat-scan-login [part=match]').textContent())!.trim();
    expect(widgetMatch).toMatch(/^\d{2}$/);
    expect((await phone.locator('#match').textContent())!.trim()).toBe(widgetMatch);
    expect(phoneMatch === '' || phoneMatch === widgetMatch).toBe(true);
    await shoot(page, 'scanned');

    await phone.locator('#btn-confirm').click();
    await waitState(page, 'success');
    await shoot(page, 'success');

    const evs = await events(page);
    expect(evs.map((e) => e.type)).toEqual(['statechange', 'statechange', 'scanned', 'statechange', 'login']);
    expect(await states(page)).toEqual(['ready', 'scanned', 'success']);
    const login = evs.find((e) => e.type === 'login')!;
    const claims = await verifyWithJwks(login.detail.token, app.app.id);
    expect(claims.jti).toBe(sessionId);
    expect(login.detail.user.id).toBe(claims.sub);
    // Terminal: the socket is closed and no strict-CSP rule was broken.
    await expect.poll(() => site.sockets.every((s) => s.isClosed())).toBe(true);
    expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
    expect(site.pageErrors).toEqual([]);
    await phoneCtx.close();
    await site.ctx.close();
  });

  it('shows a cancel from the phone, and its button brings a fresh code', async () => {
    const { page, ctx } = await openSite(hostPage(`site-key="${app.keys.test.publishable}"`));
    await waitState(page, 'ready');
    const first = await sessionIdOf(page);
    const scan = await testScan(server.url, app.keys.test.secret, first);
    await waitState(page, 'scanned');
    expect(await page.locator('wechat-scan-login [part=match]').textContent()).toBe(scan.body.match);
    expect((await postJson(`${server.url}/v1/mp/cancel`, { scene: first, ticket: scan.body.ticket })).status).toBe(200);
    await waitState(page, 'cancelled');
    expect(await page.locator('wechat-scan-login [part=status]').textContent()).toBe('Cancelled on the phone');
    await shoot(page, 'cancelled');
    expect(await axeViolations(page)).toEqual([]);

    await page.locator('wechat-scan-login button').click();
    await waitState(page, 'ready');
    expect(await sessionIdOf(page)).not.toBe(first);
    expect((await events(page)).map((e) => e.type)).toEqual([
      'statechange', 'statechange', 'scanned', 'statechange', 'cancelled', 'statechange', 'statechange',
    ]);
    expect(await states(page)).toEqual(['ready', 'scanned', 'cancelled', 'loading', 'ready']);
    await ctx.close();
  });

  it('expires, refreshes on one click, and refreshes by itself with auto-refresh', async () => {
    const { page, ctx } = await openSite(hostPage(`site-key="${shortApp.keys.test.publishable}" lang="zh-CN"`));
    await waitState(page, 'ready');
    expect(await page.locator('wechat-scan-login [part=status]').textContent()).toBe('请使用微信扫一扫');
    const first = await sessionIdOf(page);
    await waitState(page, 'expired');
    expect(await page.locator('wechat-scan-login [part=status]').textContent()).toBe('小程序码已过期');
    await shoot(page, 'expired');
    expect((await events(page)).some((e) => e.type === 'expired')).toBe(true);
    await page.locator('wechat-scan-login button').click();
    await waitState(page, 'ready');
    expect(await sessionIdOf(page)).not.toBe(first);
    await ctx.close();

    const auto = await openSite(hostPage(`site-key="${shortApp.keys.test.publishable}" auto-refresh`));
    await waitState(auto.page, 'ready');
    const before = await sessionIdOf(auto.page);
    await auto.page.waitForFunction(() => (window as unknown as { __events: Array<{ type: string }> }).__events.some((e) => e.type === 'expired'), null, { timeout: 15_000 });
    await waitState(auto.page, 'ready');
    expect(await sessionIdOf(auto.page)).not.toBe(before);
    expect(await states(auto.page)).toEqual(['ready', 'expired', 'loading', 'ready']);
    await auto.ctx.close();
  });

  it('resumes the same session after the server drops the socket, keeping a confirmation made meanwhile', async () => {
    const { page, ctx, sockets } = await openSite(hostPage(`site-key="${app.keys.test.publishable}"`));
    await waitState(page, 'ready');
    const sessionId = await sessionIdOf(page);
    // Cut the connection and keep new sockets out while the phone confirms.
    upgrades.mode = 'refuse';
    upgrades.dropAll();
    await expect.poll(() => sockets[0]!.isClosed()).toBe(true);
    await scanAndConfirm(server.url, app, sessionId);
    upgrades.mode = 'pass';
    await waitState(page, 'success', 30_000);
    expect(await sessionIdOf(page)).toBe(sessionId);
    const evs = await events(page);
    expect(evs.filter((e) => e.type === 'login')).toHaveLength(1);
    expect(await states(page)).toEqual(['ready', 'success']);
    // It came back over WebSocket with ?session=, not by polling.
    expect(sockets.at(-1)!.url()).toContain(`session=${sessionId}`);
    await ctx.close();
  });

  it('falls back to long-polling when WebSocket is refused, and still logs in', async () => {
    upgrades.mode = 'refuse';
    try {
      const { page, ctx, requests } = await openSite(hostPage(`site-key="${app.keys.test.publishable}"`));
      await waitState(page, 'ready');
      expect(requests.some((r) => r.startsWith(`POST ${server.url}/v1/sessions?key=`))).toBe(true);
      const sessionId = await sessionIdOf(page);
      const scan = await testScan(server.url, app.keys.test.secret, sessionId);
      await waitState(page, 'scanned');
      await postJson(`${server.url}/v1/mp/confirm`, { scene: sessionId, ticket: scan.body.ticket });
      await waitState(page, 'success');
      expect(requests).toContain(`GET ${server.url}/v1/sessions/${sessionId}/events?after=pending`);
      expect(requests).toContain(`GET ${server.url}/v1/sessions/${sessionId}/events?after=scanned`);
      const login = (await events(page)).find((e) => e.type === 'login')!;
      expect((await verifyWithJwks(login.detail.token, app.app.id)).jti).toBe(sessionId);
      await ctx.close();
    } finally {
      upgrades.mode = 'pass';
    }
  });

  it('explains a page origin the app does not allow: plain words for visitors, one console.error for developers, no retry', async () => {
    const { page, ctx, sockets, consoleErrors } = await openSite(hostPage(`site-key="${app.keys.test.publishable}"`), { origin: EVIL });
    await waitState(page, 'error');
    expect(await page.locator('wechat-scan-login [part=status]').textContent()).toBe('This site may not use this login.');
    const failed = (await events(page)).filter((e) => e.type === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.detail.code).toBe('origin_not_allowed');
    expect(failed[0]!.detail.message).toContain(EVIL);
    expect((await events(page)).some((e) => e.type === 'error')).toBe(false);
    // A retry can't help a visitor here: no button. The developer is told what to add where.
    expect(await page.locator('wechat-scan-login button').count()).toBe(0);
    expect(consoleErrors).toHaveLength(1);
    expect(consoleErrors[0]).toContain(`origin_not_allowed: ${EVIL} is not an allowed origin of the app with site-key="${app.keys.test.publishable}"`);
    expect(consoleErrors[0]).toContain("Fix: add it to the app's allowed origins in the console");
    await shoot(page, 'error');
    expect(await axeViolations(page)).toEqual([]);
    expect(sockets).toHaveLength(1);
    await expect.poll(() => sockets[0]!.isClosed()).toBe(true);
    await ctx.close();
  });

  it('explains a bad site key the same way, and never retries it by itself', async () => {
    const { page, ctx, sockets, requests, consoleErrors } = await openSite(hostPage('site-key="pk_test_doesnotexist"', { lang: 'zh-CN' }));
    await waitState(page, 'error');
    expect(await page.locator('wechat-scan-login [part=status]').textContent()).toBe('本站登录密钥无效。');
    expect((await events(page)).find((e) => e.type === 'failed')!.detail.code).toBe('invalid_key');
    expect(await page.locator('wechat-scan-login button').count()).toBe(0);
    expect(consoleErrors).toEqual([expect.stringContaining('invalid_key: site-key="pk_test_doesnotexist" is unknown or revoked. Fix:')]);
    // Longer than the first two backoff steps: a transient failure would have been retried by now.
    await page.waitForTimeout(1600);
    expect(sockets).toHaveLength(1);
    expect(requests.filter((r) => r.includes('/v1/'))).toEqual([]);
    expect((await events(page)).filter((e) => e.type === 'failed')).toHaveLength(1);
    // refresh() is still there for a page that fixes its key.
    await page.evaluate(() => document.querySelector('wechat-scan-login')!.refresh());
    await expect.poll(() => sockets.length).toBe(2);
    await ctx.close();
  });

  it('leaves no open connection when removed mid-session', async () => {
    const { page, ctx, sockets } = await openSite(hostPage(`site-key="${app.keys.test.publishable}"`));
    await waitState(page, 'ready');
    await expect.poll(openSocketsOnServer).toBeGreaterThanOrEqual(1);
    expect(sockets[0]!.isClosed()).toBe(false);
    await page.evaluate(() => document.querySelector('wechat-scan-login')!.remove());
    await expect.poll(() => sockets[0]!.isClosed()).toBe(true);
    await expect.poll(openSocketsOnServer).toBe(0);
    // Detached for good: nothing reconnects behind the page's back.
    await page.waitForTimeout(1500);
    expect(sockets).toHaveLength(1);
    await ctx.close();
  });

  it('is usable by keyboard alone, with visible focus', async () => {
    const { page, ctx } = await openSite(hostPage(`site-key="${shortApp.keys.test.publishable}"`, { before: '<a href="#top">Skip</a>' }));
    await waitState(page, 'expired');
    await page.keyboard.press('Tab'); // the page's own link
    await page.keyboard.press('Tab'); // the refresh control inside the element
    const focused = await page.evaluate(() => {
      const host = document.activeElement!;
      const inner = host.shadowRoot?.activeElement as HTMLElement | null;
      return { host: host.tagName, inner: inner?.tagName, outline: inner ? getComputedStyle(inner).outlineStyle : '' };
    });
    expect(focused).toEqual({ host: 'WECHAT-SCAN-LOGIN', inner: 'BUTTON', outline: 'solid' });
    await page.keyboard.press('Enter');
    await waitState(page, 'ready');
    // Focus stays inside the widget instead of falling back to <body>.
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('WECHAT-SCAN-LOGIN');
    await waitState(page, 'expired');
    await page.keyboard.press('Tab'); // from the code's frame to the refresh control inside it
    await page.keyboard.press('Space');
    await waitState(page, 'ready');
    await ctx.close();
  });

  it('has no axe-core violations while ready and scanned, in light and dark', async () => {
    const { page, ctx } = await openSite(hostPage(`site-key="${app.keys.test.publishable}"`));
    await waitState(page, 'ready');
    expect(await axeViolations(page)).toEqual([]);
    await testScan(server.url, app.keys.test.secret, await sessionIdOf(page));
    await waitState(page, 'scanned');
    expect(await axeViolations(page)).toEqual([]);
    await ctx.close();
  });

  it('draws the loading skeleton at the code size (no layout jump)', async () => {
    const { page, ctx } = await openSite(hostPage(''));
    expect(await page.evaluate(() => document.querySelector('wechat-scan-login')!.state)).toBe('loading');
    await page.locator('wechat-scan-login .skel').waitFor();
    await shoot(page, 'loading');
    const loading = await el(page).boundingBox();
    await page.evaluate((key) => document.querySelector('wechat-scan-login')!.setAttribute('site-key', key), app.keys.test.publishable);
    await waitState(page, 'ready');
    await page.locator('wechat-scan-login [part=code]').evaluate((i: HTMLImageElement) => i.decode());
    expect({ ...(await el(page).boundingBox()), state: 'ready' }).toEqual({ ...loading, state: 'ready' });
    await ctx.close();
  });

  it('works with two script tags and an element that exists before the script loads', async () => {
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head><body><main><h1>Shop</h1>
<wechat-scan-login site-key="${app.keys.test.publishable}"></wechat-scan-login>
<script type="module" src="${server.url}/widget.js"></script>
<script type="module" src="${server.url}/widget.js?copy=2"></script></main></body></html>`;
    const { page, ctx, pageErrors, requests } = await openSite(html);
    await waitState(page, 'ready');
    expect(requests.filter((r) => r.includes('/widget.js'))).toHaveLength(2);
    expect(pageErrors).toEqual([]);
    await ctx.close();
  });
});

describe('the demo page at /', () => {
  it("logs in with the sandbox phone opened from the element's own link, under its strict CSP", async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
    await page.goto(`${server.url}/`);
    await waitState(page, 'ready');
    expect(await page.locator('#state').textContent()).toBe('ready');
    const popup = page.waitForEvent('popup');
    await page.locator('wechat-scan-login [part=sandbox]').click();
    const phone = await popup;
    await phone.locator('#match').filter({ hasText: /\d\d/ }).waitFor();
    await waitState(page, 'scanned');
    expect((await phone.locator('#match').textContent())!.trim()).toBe((await page.locator('wechat-scan-login [part=match]').textContent())!.trim());
    await phone.locator('#btn-confirm').click();
    await page.locator('#result').waitFor();
    expect(await page.locator('#state').textContent()).toBe('success');
    expect(await page.locator('#who').textContent()).toMatch(/^usr_/);
    expect(pageErrors).toEqual([]);
    await ctx.close();
  });

  for (const [width, scheme] of [[1280, 'light'], [390, 'dark']] as const) {
    it(`has no axe violations at ${width} px in ${scheme}, in both languages`, async () => {
      // (CSP bypassed only so that axe-core can be injected.)
      const ctx = await browser.newContext({ bypassCSP: true, colorScheme: scheme, viewport: { width, height: 900 } });
      const page = await ctx.newPage();
      await page.goto(`${server.url}/`);
      await waitState(page, 'ready');
      await page.locator('wechat-scan-login [part=code]').evaluate((i: HTMLImageElement) => i.decode());
      expect(await axeViolations(page)).toEqual([]);
      await page.screenshot({ path: artifactPath(`demo-${width}-${scheme}-en.png`), fullPage: true });
      await page.getByRole('button', { name: '中文' }).click();
      await expect.poll(() => page.locator('wechat-scan-login [part=status]').textContent()).toBe('请使用微信扫一扫');
      expect(await page.locator('h1').textContent()).toBe('扫描小程序码，用微信登录');
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
      expect(await axeViolations(page)).toEqual([]);
      await page.screenshot({ path: artifactPath(`demo-${width}-${scheme}-zh.png`), fullPage: true });
      await ctx.close();
    });
  }

  it('logs in by keyboard alone, with a visible focus ring at every stop, and focus lands on the result', async () => {
    const ctx = await browser.newContext({ bypassCSP: true });
    const page = await ctx.newPage();
    await page.goto(`${server.url}/?lang=en`);
    await waitState(page, 'ready');
    const stops: string[] = [];
    const tab = async () => void stops.push(await tabToVisibleFocus(page));
    for (let i = 0; i < 4; i++) await tab();
    expect(stops).toEqual(['a', 'a', 'button', 'button']);
    await page.keyboard.press('Enter'); // 中文
    await expect.poll(() => page.locator('wechat-scan-login [part=status]').textContent()).toBe('请使用微信扫一扫');
    await tab();
    expect(stops.at(-1)).toBe('a[part=sandbox]');
    const popup = page.waitForEvent('popup');
    await page.keyboard.press('Enter');
    const phone = await popup;
    await phone.locator('body[data-state="review"]').waitFor();
    for (let i = 0; i < 3; i++) await phone.keyboard.press('Tab');
    expect(await phone.evaluate(() => document.activeElement?.id)).toBe('btn-confirm');
    await phone.keyboard.press('Enter');
    await page.locator('#result').waitFor();
    // The element that had focus went away with the login: focus moved to the result's button.
    const ring = await focusRing(page);
    expect(ring.element).toBe('button#again');
    expect(ring.contrast).toBeGreaterThanOrEqual(3);
    expect(await axeViolations(page)).toEqual([]);
    await page.keyboard.press('Enter');
    await waitState(page, 'ready');
    expect(await page.locator('#result').isHidden()).toBe(true);
    await ctx.close();
  });
});

describe('<wechat-scan-login> across a server restart', () => {
  it('resumes the pending session on the restarted server and completes the login there', async () => {
    const { page, ctx, sockets } = await openSite(hostPage(`site-key="${app.keys.test.publishable}"`));
    await waitState(page, 'ready');
    const sessionId = await sessionIdOf(page);
    const { port, url } = server;
    await server.close();
    await expect.poll(() => sockets[0]!.isClosed()).toBe(true);
    server = await env.start({ PORT: String(port), PUBLIC_URL: url });
    await expect.poll(() => sockets.some((s) => s.url().includes(`session=${sessionId}`) && !s.isClosed()), { timeout: 20_000 }).toBe(true);
    expect(await page.evaluate(() => document.querySelector('wechat-scan-login')!.state)).toBe('ready');
    await scanAndConfirm(server.url, app, sessionId);
    await waitState(page, 'success');
    expect(await sessionIdOf(page)).toBe(sessionId);
    // One session from start to finish: no second `ready`, no new code.
    expect(await states(page)).toEqual(['ready', 'scanned', 'success']);
    await ctx.close();
  });
});
