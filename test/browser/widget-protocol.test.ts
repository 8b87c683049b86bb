import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { launchBrowser } from '../helpers/browser';

/**
 * Protocol edge cases only, against a scripted stand-in for the service (the real login flow is
 * covered in widget-login.test.ts): phone rendering with and without a URL Link, data and
 * relative code URLs, junk frames, the `server` attribute, string overrides, custom states.
 */
interface Fake {
  url: string;
  server: Server;
  /** Sockets in the order they connected, with the URL they asked for. */
  sockets: Array<{ ws: WebSocket; url: string }>;
  next(): Promise<WebSocket>;
  pages: Map<string, string>;
}

const WIDGET = readFileSync('dist/widget/widget.js');
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

async function startFake(): Promise<Fake> {
  const pages = new Map<string, string>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/widget.js') return void res.writeHead(200, { 'content-type': 'text/javascript', 'access-control-allow-origin': '*' }).end(WIDGET);
    if (path === '/qr.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    const html = pages.get(path);
    if (html) return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server, path: '/v1/ws' });
  const fake: Fake = { url: '', server, sockets: [], pages, next: () => Promise.reject(new Error('unset')) };
  const waiting: Array<(ws: WebSocket) => void> = [];
  const queued: WebSocket[] = [];
  wss.on('connection', (ws, req) => {
    fake.sockets.push({ ws, url: req.url ?? '' });
    const w = waiting.shift();
    if (w) w(ws);
    else queued.push(ws);
  });
  fake.next = () => {
    const q = queued.shift();
    return q ? Promise.resolve(q) : new Promise((ok) => waiting.push(ok));
  };
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
const session = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'session', session: 'AAAAAAAAAAAAAAAAAAAAAA', secret: 's', expiresAt: new Date(Date.now() + 120_000).toISOString(), qr: '/qr.png', match: '37', ...extra });

let browser: Browser;
let fake: Fake;
let other: Fake;
let n = 0;

beforeAll(async () => {
  [fake, other] = await Promise.all([startFake(), startFake()]);
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const f of [fake, other]) f?.server.closeAllConnections();
  await Promise.all([fake, other].map((f) => f && new Promise((ok) => f.server.close(ok))));
});

async function open(attrs: string, o: { userAgent?: string; lang?: string; clock?: boolean } = {}): Promise<{ page: Page; errors: string[]; close(): Promise<void> }> {
  const path = `/p${n++}`;
  fake.pages.set(path, `<!doctype html><html lang="${o.lang ?? 'en'}"><head><meta charset="utf-8"><title>t</title><script type="module" src="/widget.js"></script></head><body><main><wechat-scan-login ${attrs}></wechat-scan-login></main></body></html>`);
  const ctx = await browser.newContext(o.userAgent ? { userAgent: o.userAgent, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } : {});
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  if (o.clock) await page.clock.install();
  await page.goto(`${fake.url}${path}`);
  return { page, errors, close: () => ctx.close() };
}

const waitState = (page: Page, s: string) => page.waitForFunction((x) => document.querySelector('wechat-scan-login')?.state === x, s);

describe('<wechat-scan-login> protocol edge cases', () => {
  it('offers "Open in WeChat" on a phone when the session carries a URL Link, reachable by keyboard', async () => {
    const { page, close } = await open('site-key="pk_test_x"', { userAgent: IPHONE });
    const ws = await fake.next();
    ws.send(session({ urlLink: 'https://wxaurl.cn/abcdef', qr: `data:image/png;base64,${PNG.toString('base64')}` }));
    await waitState(page, 'ready');
    const link = page.locator('wechat-scan-login a[part=button]');
    expect(await link.getAttribute('href')).toBe('https://wxaurl.cn/abcdef');
    expect(await link.textContent()).toBe('Open in WeChat');
    expect(await page.locator('wechat-scan-login [part=code]').getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.tagName)).toBe('A');
    await close();
  });

  it('shows the save-the-code hint on a phone without a URL Link, and resolves a relative code URL against the server', async () => {
    const { page, close } = await open('site-key="pk_test_x"', { userAgent: IPHONE, lang: 'zh-CN' });
    (await fake.next()).send(session());
    await waitState(page, 'ready');
    expect(await page.locator('wechat-scan-login a').count()).toBe(0);
    expect(await page.locator('wechat-scan-login small').allTextContents()).toContain('在手机上？请保存小程序码，再用微信扫一扫识别。');
    expect(await page.locator('wechat-scan-login [part=code]').getAttribute('src')).toBe(`${fake.url}/qr.png`);
    await close();
  });

  it('shows neither on a desktop browser; in test mode only the sandbox phone link', async () => {
    const live = await open('site-key="pk_live_x"');
    (await fake.next()).send(session({ urlLink: 'https://wxaurl.cn/abcdef' }));
    await waitState(live.page, 'ready');
    expect(await live.page.locator('wechat-scan-login a').count()).toBe(0);
    expect(await live.page.locator('wechat-scan-login small').allTextContents()).not.toContain('On a phone? Save this code, then open it with Scan in WeChat.');
    await live.close();

    const test = await open('site-key="pk_test_x"', { lang: 'zh-CN' });
    (await fake.next()).send(session());
    await waitState(test.page, 'ready');
    const link = test.page.locator('wechat-scan-login a');
    expect(await link.count()).toBe(1);
    expect(await link.textContent()).toBe('打开沙盒手机');
    expect(await link.getAttribute('href')).toBe(`${fake.url}/sandbox/phone?scene=AAAAAAAAAAAAAAAAAAAAAA`);
    expect(await link.getAttribute('part')).toBe('sandbox');
    await test.close();
  });

  it('ignores junk and unknown frames without failing', async () => {
    const { page, errors, close } = await open('site-key="pk_test_x"');
    const ws = await fake.next();
    ws.send(session());
    await waitState(page, 'ready');
    for (const junk of ['not json', '{"type":"pong"}', '{"type":"future_thing","x":1}', '{"type":"session"}', '[]', 'null']) ws.send(junk);
    ws.send('{"type":"scanned"}');
    await waitState(page, 'scanned');
    expect(await page.locator('wechat-scan-login [part=match]').textContent()).toBe('37');
    expect(errors).toEqual([]);
    await close();
  });

  it('talks to the `server` attribute instead of its own origin, with the key in the URL', async () => {
    const { page, close } = await open(`site-key="pk_test_other" server="${other.url}"`);
    const ws = await other.next();
    expect(other.sockets.at(-1)!.url).toBe('/v1/ws?key=pk_test_other');
    ws.send(session());
    await waitState(page, 'ready');
    expect(await page.locator('wechat-scan-login [part=code]').getAttribute('src')).toBe(`${other.url}/qr.png`);
    await close();
  });

  it('takes string overrides and exposes its state as a CSS custom state', async () => {
    const { page, close } = await open(`site-key="pk_test_x" strings='{"ready":"Scan to enter ACME"}'`);
    (await fake.next()).send(session());
    await waitState(page, 'ready');
    expect(await page.locator('wechat-scan-login [part=status]').textContent()).toBe('Scan to enter ACME');
    expect(await page.evaluate(() => document.querySelector('wechat-scan-login')!.matches(':state(ready)'))).toBe(true);
    await close();
  });

  it('reconnects with ?session= after a drop and takes the token waiting there', async () => {
    const { page, close } = await open('site-key="pk_test_x"');
    const first = await fake.next();
    first.send(session());
    await waitState(page, 'ready');
    first.terminate();
    const second = await fake.next();
    expect(fake.sockets.at(-1)!.url).toBe('/v1/ws?key=pk_test_x&session=AAAAAAAAAAAAAAAAAAAAAA');
    const resume = await new Promise<string>((ok) => second.once('message', (d) => ok(String(d))));
    expect(JSON.parse(resume)).toEqual({ type: 'resume', session: 'AAAAAAAAAAAAAAAAAAAAAA', secret: 's' });
    second.send('{"type":"success","token":"t.o.k","user":{"id":"usr_1"}}');
    await waitState(page, 'success');
    await close();
  });

  it('ends a code by its own deadline when the server never says expired, and stops its socket', async () => {
    const { page, close } = await open('site-key="pk_test_x"', { clock: true });
    const ws = await fake.next();
    const closed = new Promise((ok) => ws.once('close', ok));
    ws.send(session({ expiresAt: new Date(Date.now() + 60_000).toISOString() }));
    await waitState(page, 'ready');
    await page.evaluate(() => document.addEventListener('expired', () => ((window as unknown as { __expired: number }).__expired = ((window as unknown as { __expired?: number }).__expired ?? 0) + 1)));
    // Past the code's end but inside the grace, the server still has the word.
    await page.clock.runFor(61_000);
    expect(await page.evaluate(() => document.querySelector('wechat-scan-login')!.state)).toBe('ready');
    await page.clock.runFor(3_000);
    await waitState(page, 'expired');
    expect(await page.evaluate(() => (window as unknown as { __expired: number }).__expired)).toBe(1);
    expect(await page.locator('wechat-scan-login button').textContent()).toBe('Get a new code');
    await closed;
    await close();
  });

  it('takes a fresh session frame at any time (the server lost the old session) and shows the new code', async () => {
    const { page, close } = await open('site-key="pk_test_x"');
    const ws = await fake.next();
    ws.send(session());
    ws.send('{"type":"scanned"}');
    await waitState(page, 'scanned');
    ws.send(session({ session: 'BBBBBBBBBBBBBBBBBBBBBB', match: '55' }));
    await waitState(page, 'ready');
    expect(await page.evaluate(() => document.querySelector('wechat-scan-login')!.sessionId)).toBe('BBBBBBBBBBBBBBBBBBBBBB');
    await close();
  });
});
