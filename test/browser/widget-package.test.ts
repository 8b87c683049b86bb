/**
 * The npm package as a customer gets it: `npm pack` on the built package (dist/widget), the
 * tarball unpacked into a React 19 + Vite app and a Vue 3 + Vite app (widget/test/fixtures,
 * offline: no registry), each type-checked with tsc (which proves the JSX and GlobalComponents
 * typings) and built with Vite, then a real login through each in Chromium against the sandbox.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { launchBrowser } from '../helpers/browser';
import { createTestApp, postJson, testScan } from '../helpers/login';
import { createTestEnv, type TestEnv } from '../helpers/server';

const PACKAGE_DIR = resolve('dist/widget');
const FIXTURES = resolve('widget/test/fixtures');
const FRAMEWORKS = ['react', 'vue'] as const;
const node = (script: string, args: string[], cwd: string) =>
  execFileSync(process.execPath, [resolve(script), ...args], { cwd, stdio: 'pipe', encoding: 'utf8' });

let work: string;
let tarball: string;
let env: TestEnv;
let server: RunningServer;
let app: Awaited<ReturnType<typeof createTestApp>>;
let browser: Browser;
const sites = new Map<string, { url: string; http: Server }>();

/** Serves a Vite build at http://localhost:PORT (an origin test keys accept). */
async function serveBuild(dir: string): Promise<{ url: string; http: Server }> {
  const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' };
  const http = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/favicon.ico') return void res.writeHead(204).end();
    const file = join(dir, path === '/' ? 'index.html' : path);
    if (!file.startsWith(dir) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
  return { url: `http://localhost:${(http.address() as AddressInfo).port}`, http };
}

beforeAll(async () => {
  // `npm test` builds first; running this file alone builds when nothing is there yet.
  if (!existsSync(join(PACKAGE_DIR, 'widget.js'))) node('node_modules/vite/bin/vite.js', ['build', '--config', 'widget/vite.config.ts'], process.cwd());
  work = mkdtempSync(join(tmpdir(), 'wsl-package-'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: PACKAGE_DIR, encoding: 'utf8' })) as Array<{ filename: string }>;
  tarball = join(work, packed[0]!.filename);
  for (const fw of FRAMEWORKS) {
    const fixture = join(FIXTURES, fw);
    // Installed offline, as npm would from the tarball: unpacked into node_modules/wechat-scan-login.
    const target = join(fixture, 'node_modules', 'wechat-scan-login');
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
    const out = join(work, `${fw}-dist`);
    node('node_modules/vite/bin/vite.js', ['build', '--outDir', out, '--emptyOutDir'], fixture);
    sites.set(fw, await serveBuild(out));
  }
  env = await createTestEnv('widget-package');
  server = await env.start();
  app = await createTestApp(server);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await env?.dispose();
  for (const s of sites.values()) s.http.close();
  for (const fw of FRAMEWORKS) rmSync(join(FIXTURES, fw, 'node_modules'), { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed wechat-scan-login', () => {
  it('holds the bundle, the type declarations and the manifest, and nothing internal', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, '')).sort();
    expect(files).toEqual(['README.md', 'i18n.d.ts', 'index.d.ts', 'package.json', 'protocol.d.ts', 'react.d.ts', 'types.d.ts', 'vue.d.ts', 'widget.js']);
    const pkg = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { name: string; exports: Record<string, { types: string; default: string }> };
    expect(pkg.name).toBe('wechat-scan-login');
    for (const entry of Object.values(pkg.exports).filter((e) => typeof e === 'object')) {
      expect(files).toContain(entry.types.replace('./', ''));
      expect(files).toContain(entry.default.replace('./', ''));
    }
  });

  for (const fw of FRAMEWORKS) {
    describe(`in a ${fw === 'react' ? 'React 19' : 'Vue 3'} + Vite app`, () => {
      it('type-checks with tsc: the tag, its attributes and its typed events', () => {
        // Throws with tsc's own report on any error, including an unused @ts-expect-error.
        expect(node('node_modules/typescript/bin/tsc', ['-p', join(FIXTURES, fw, 'tsconfig.json')], process.cwd())).toBe('');
        expect(readdirSync(join(FIXTURES, fw, 'src')).some((f) => f.startsWith('typings.'))).toBe(true);
      });

      it('logs in through the bundled element against the sandbox', async () => {
        const ctx = await browser.newContext();
        const page = await ctx.newPage();
        const problems: string[] = [];
        page.on('pageerror', (e) => problems.push(String(e)));
        page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
        await page.goto(`${sites.get(fw)!.url}/?server=${encodeURIComponent(server.url)}&key=${app.keys.test.publishable}`);
        await waitState(page, 'ready');
        const sessionId = await page.evaluate(() => document.querySelector('wechat-scan-login')!.sessionId!);
        const scan = await testScan(server.url, app.keys.test.secret, sessionId);
        expect(scan.status).toBe(200);
        expect((await postJson(`${server.url}/v1/mp/confirm`, { scene: sessionId, ticket: scan.body.ticket })).status).toBe(200);
        // The app's own listener got the `login` event and re-rendered.
        await expect.poll(() => page.locator('#who').textContent().catch(() => ''), { timeout: 15_000 }).toMatch(/^Logged in as usr_/);
        expect(problems).toEqual([]);
        await ctx.close();
      });

      it('without server=, fails fast: a failed event and exactly one console.error naming the fix', async () => {
        const ctx = await browser.newContext();
        const page = await ctx.newPage();
        const errors: string[] = [];
        const warnings: string[] = [];
        const requests: string[] = [];
        page.on('console', (m) => (m.type() === 'error' ? errors : m.type() === 'warning' ? warnings : []).push(m.text()));
        page.on('request', (r) => requests.push(r.url()));
        await page.goto(`${sites.get(fw)!.url}/?key=${app.keys.test.publishable}`);
        await waitState(page, 'error');
        expect(errors).toHaveLength(1);
        expect(errors[0]).toContain('<wechat-scan-login> no_server');
        expect(errors[0]).toContain('Fix: set server="https://…"');
        // The app's own `failed` listener ran (the framework bound the event).
        await expect.poll(() => warnings).toContain('login failed: no_server');
        expect(await page.locator('wechat-scan-login [part=status]').textContent()).toBe('WeChat login is not set up on this page yet.');
        expect(await page.locator('wechat-scan-login button').count()).toBe(0);
        // Nothing was asked of the app's own origin as if it were the service.
        expect(requests.filter((u) => u.includes('/v1/'))).toEqual([]);
        await ctx.close();
      });
    });
  }
});

function waitState(page: Page, state: string) {
  return page.waitForFunction((s) => document.querySelector('wechat-scan-login')?.state === s, state, { timeout: 20_000 });
}
