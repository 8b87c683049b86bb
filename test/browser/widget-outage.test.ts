/**
 * The element riding out a real outage: the real server on a private `redis-server` of this
 * file's own, which the tests stop and start again (never the shared Redis). With Redis gone
 * the server refuses sockets with close 4503 `unavailable`; the element must show
 * "Reconnecting…" and come back by itself, while final refusals are never retried.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { Redis } from 'ioredis';
import type { Browser, BrowserContext, Page, WebSocket as PwSocket } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { artifactPath, launchBrowser } from '../helpers/browser';
import { createTestApp, postJson, testScan } from '../helpers/login';
import { createTestEnv, type TestEnv } from '../helpers/server';

let env: TestEnv;
let server: RunningServer;
let browser: Browser;
let app: Awaited<ReturnType<typeof createTestApp>>;
let site: Server;
let SITE: string;
let redisPort: number;
let redisDir: string;
let redis: ChildProcess | undefined;
/** The server's upgraded connections, so a test can cut them as a load balancer would. */
const upgraded = new Set<Duplex>();
/** WebSocket blocked, as behind a proxy that refuses upgrades: the element must long-poll. */
let refuseUpgrades = false;

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((ok) => s.once('listening', ok));
  const port = (s.address() as AddressInfo).port;
  await new Promise((ok) => s.close(ok));
  return port;
}

/** Starts the private Redis (AOF on, so a waiting session survives the restart) and waits for PONG. */
async function startRedis(): Promise<void> {
  if (redis && redis.exitCode === null) return;
  redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', redisDir], { stdio: 'ignore' });
  const probe = new Redis(redisPort, '127.0.0.1', { maxRetriesPerRequest: null, retryStrategy: () => 50 });
  probe.on('error', () => undefined); // refused until redis-server listens; ping waits for it
  await probe.ping();
  probe.disconnect();
}

async function stopRedis(): Promise<void> {
  const r = redis;
  if (!r || r.exitCode !== null) return;
  const exited = new Promise((ok) => r.once('exit', ok));
  r.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  redisPort = await freePort();
  redisDir = mkdtempSync(join(tmpdir(), 'wsl-widget-redis-'));
  await startRedis();
  env = await createTestEnv('widget-outage');
  server = await env.start({ REDIS_URL: `redis://127.0.0.1:${redisPort}` });
  app = await createTestApp(server);
  // A switch in front of the server's own upgrade handler: track or refuse WebSocket upgrades.
  const http = server.http!;
  const original = http.listeners('upgrade') as Array<(req: IncomingMessage, socket: Duplex, head: Buffer) => void>;
  http.removeAllListeners('upgrade');
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (refuseUpgrades) return void socket.destroy();
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    for (const l of original) l.call(http, req, socket, head);
  });
  site = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<script type="module" src="${server.url}/widget.js"></script></head><body><main><h1>Shop</h1>
<wechat-scan-login site-key="${app.keys.test.publishable}"></wechat-scan-login></main></body></html>`);
  });
  await new Promise<void>((ok) => site.listen(0, '127.0.0.1', ok));
  SITE = `http://localhost:${(site.address() as AddressInfo).port}`;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await env?.dispose();
  site?.close();
  await stopRedis();
  rmSync(redisDir, { recursive: true, force: true });
});

interface Opened {
  ctx: BrowserContext;
  page: Page;
  sockets: PwSocket[];
  failed(): Promise<unknown[]>;
}

async function openShop(): Promise<Opened & { requests: string[] }> {
  const ctx = await browser.newContext();
  await ctx.addInitScript(() => {
    const w = window as unknown as { __failed: unknown[] };
    w.__failed = [];
    document.addEventListener('failed', (e) => w.__failed.push((e as CustomEvent).detail));
  });
  const page = await ctx.newPage();
  const sockets: PwSocket[] = [];
  const requests: string[] = [];
  page.on('websocket', (ws) => sockets.push(ws));
  page.on('response', (r) => r.url().includes('/v1/sessions') && requests.push(`${r.request().method()} ${r.status()}`));
  await page.goto(`${SITE}/`);
  return { ctx, page, sockets, requests, failed: () => page.evaluate(() => (window as unknown as { __failed: unknown[] }).__failed) };
}

const status = (page: Page) => page.locator('wechat-scan-login [part=status]').textContent();
const waitState = (page: Page, s: string, timeout = 30_000) =>
  page.waitForFunction((x) => document.querySelector('wechat-scan-login')?.state === x, s, { timeout });
const reconnecting = (page: Page) =>
  page.waitForFunction(() => document.querySelector('wechat-scan-login')!.matches(':state(reconnecting)'), null, { timeout: 15_000 });

describe('<wechat-scan-login> through a Redis outage', () => {
  it('is refused with 4503 while Redis is down, shows reconnecting, then a code when it is back, without a click', async () => {
    await stopRedis();
    const { ctx, page, sockets, failed } = await openShop();
    try {
      await reconnecting(page);
      expect(await status(page)).toBe('Reconnecting…');
      expect(await page.evaluate(() => document.querySelector('wechat-scan-login')!.state)).toBe('loading');
      await page.locator('wechat-scan-login').screenshot({ path: artifactPath('widget-reconnecting-loading.png'), animations: 'disabled' });
      // It keeps trying over WebSocket: the refusals were real 4503 closes, not a blocked socket.
      await expect.poll(() => sockets.length).toBeGreaterThanOrEqual(2);
      await startRedis();
      await waitState(page, 'ready');
      await page.waitForFunction(() => !document.querySelector('wechat-scan-login')!.matches(':state(reconnecting)'));
      expect(await status(page)).toBe('Scan the code with WeChat');
      expect(await failed()).toEqual([]);
    } finally {
      await ctx.close();
      await startRedis();
    }
  });

  it('keeps the code on screen through an outage mid-session, resumes it, and logs in', async () => {
    const { ctx, page, sockets, failed } = await openShop();
    await waitState(page, 'ready');
    const sessionId = await page.evaluate(() => document.querySelector('wechat-scan-login')!.sessionId!);
    await stopRedis();
    // The load balancer drops the socket meanwhile: every reconnect now meets the outage.
    const opened = sockets.length;
    for (const s of upgraded) s.destroy();
    await reconnecting(page);
    expect(await status(page)).toBe('Reconnecting…');
    expect(await page.evaluate(() => document.querySelector('wechat-scan-login')!.state)).toBe('ready');
    expect(await page.locator('wechat-scan-login [part=code]').count()).toBe(1);
    await page.locator('wechat-scan-login').screenshot({ path: artifactPath('widget-reconnecting-ready.png'), animations: 'disabled' });
    await expect.poll(() => sockets.length, { timeout: 10_000 }).toBeGreaterThan(opened + 1);
    await startRedis();
    // The same session comes back (AOF kept it): no new code, and the confirmation arrives.
    await page.waitForFunction(() => !document.querySelector('wechat-scan-login')!.matches(':state(reconnecting)'), null, { timeout: 30_000 });
    expect(await page.evaluate(() => document.querySelector('wechat-scan-login')!.sessionId)).toBe(sessionId);
    const scan = await testScan(server.url, app.keys.test.secret, sessionId);
    expect(scan.status).toBe(200);
    expect((await postJson(`${server.url}/v1/mp/confirm`, { scene: sessionId, ticket: scan.body.ticket })).status).toBe(200);
    await waitState(page, 'success');
    expect(await failed()).toEqual([]);
    await ctx.close();
  });

  it('does the same over long-polling: 503 unavailable while Redis is down, reconnecting, then a code', async () => {
    refuseUpgrades = true;
    await stopRedis();
    const { ctx, page, requests, failed } = await openShop();
    try {
      await reconnecting(page);
      expect(await status(page)).toBe('Reconnecting…');
      await expect.poll(() => requests.filter((r) => r === 'POST 503').length, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
      await startRedis();
      await waitState(page, 'ready');
      expect(requests).toContain('POST 201');
      expect(await failed()).toEqual([]);
    } finally {
      refuseUpgrades = false;
      await ctx.close();
      await startRedis();
    }
  });
});
