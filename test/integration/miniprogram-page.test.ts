/**
 * The real confirm page files, rendered by miniprogram-simulate, against a real server in
 * sandbox mode: the page's wx.request calls reach /v1/mp/*, its wx.login codes come from the
 * WeChat simulator, and the browser side is a real widget socket.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { apps as appsTable } from '../../server/db/schema/index';
import type { RunningServer } from '../../server/main';
import { has, pageText, renderPage, requirePageModule, waitForState } from '../../miniprogram/test/harness';
import { createTestApp, openSocket, testScan, type TestSocket } from '../helpers/login';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { realWx } from './miniprogram-wx';

let env: TestEnv;
let server: RunningServer;
let app: Awaited<ReturnType<typeof createTestApp>>;

beforeAll(async () => {
  env = await createTestEnv('mppage');
  server = await env.start();
  app = await createTestApp(server, { displayName: 'Acme 商店', logoUrl: 'https://shop.example.com/logo.png' });
  // The page reads its server from config.js; point that module at this test's server.
  requirePageModule<{ serverUrl: string }>('config').serverUrl = server.url;
});
afterAll(() => env.dispose());

async function newSession(key = app.keys.test.publishable): Promise<{ sock: TestSocket; scene: string; match: string }> {
  const sock = await openSocket(server.url, key);
  const f = await sock.next('session');
  return { sock, scene: String(f.session), match: String(f.match) };
}

function phone(scene: string, openid: string, language = 'zh_CN') {
  const wx = realWx({ baseUrl: server.url, scene: () => scene, openid, language });
  return { wx, page: renderPage(wx) };
}

describe('the confirm page against the sandbox server', () => {
  it('scan → confirm: the page shows the request and the browser receives the token', async () => {
    const { sock, scene, match } = await newSession();
    const { page } = phone(scene, 'o_mp_alice_01', 'en');
    await page.instance.onLoad({ scene: encodeURIComponent(scene) });
    await waitForState(page, 'review');
    expect(await sock.next('scanned')).toEqual({ type: 'scanned' });

    const text = pageText(page);
    expect(text).toContain('Acme 商店');
    expect(text).toContain('https://shop.example.com');
    expect(text).toMatch(/Chrome [\d.]+ on macOS/);
    expect(text).toContain('This computer (localhost)');
    expect(text).toContain('127.0.0.1');
    expect(page.querySelector('.match-number')!.dom.textContent).toBe(match);
    expect(text).toContain('Make sure this number matches');

    page.querySelector('.confirm-form')!.dispatchEvent('submit', { detail: { value: { nickname: 'Alice' } } });
    await waitForState(page, 'done');
    expect(pageText(page)).toContain('You are logged in');
    const success = await sock.next('success');
    expect(String(success.token).split('.')).toHaveLength(3);
    expect(success.user).toMatchObject({ openid: 'o_mp_alice_01', name: 'Alice' });
  });

  it('shares a chosen avatar: uploaded with the ticket, served by us, carried into the login', async () => {
    const { sock, scene } = await newSession();
    const { page } = phone(scene, 'o_mp_avatar_1');
    await page.instance.onLoad({ scene });
    await waitForState(page, 'review');
    const dir = mkdtempSync(join(tmpdir(), 'wsl-avatar-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'tmp_avatar.png');
    const png = await QRCode.toBuffer('avatar');
    writeFileSync(file, png);
    // What open-type="chooseAvatar" hands the page: a local temp file path.
    expect(has(page, '.avatar-btn')).toBe(true);
    await page.instance.onChooseAvatar({ detail: { avatarUrl: file } });
    await waitForState(page, 'review');
    expect(page.instance.data.profile).toMatchObject({ uploading: false, notice: '' });

    await page.instance.onConfirm({ detail: { value: { nickname: '' } } });
    await waitForState(page, 'done');
    const success = await sock.next('scanned').then(() => sock.next('success'));
    const picture = String((success.user as Record<string, string>).picture);
    expect(picture).toMatch(new RegExp(`^${server.core.config.publicUrl}/v1/avatars/avt_`));
    const img = await fetch(picture);
    expect(img.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await img.arrayBuffer()).equals(png)).toBe(true);
  });

  it('Cancel is real: the browser hears cancelled and the page says so', async () => {
    const { sock, scene } = await newSession();
    const { page } = phone(scene, 'o_mp_bob_002');
    await page.instance.onLoad({ scene });
    await waitForState(page, 'review');
    page.querySelector('.btn-cancel')!.dispatchEvent('tap');
    await waitForState(page, 'cancelled');
    expect(pageText(page)).toContain('已取消登录');
    await sock.next('scanned');
    expect(await sock.next('cancelled')).toEqual({ type: 'cancelled' });
  });

  it('an expired code asks the visitor to refresh it on the computer, with no retry', async () => {
    const short = await createTestApp(server, { name: 'Short' });
    await server.core.db.update(appsTable).set({ sessionTtlSeconds: 1 }).where(eq(appsTable.id, short.app.id));
    const { sock, scene } = await newSession(short.keys.test.publishable);
    await sock.next('expired', 5_000);
    const { page } = phone(scene, 'o_mp_late_003', 'en');
    await page.instance.onLoad({ scene });
    await waitForState(page, 'error');
    expect(page.instance.data.result).toMatchObject({ code: 'expired', retry: false });
    expect(pageText(page)).toContain('This code has expired');
    expect(pageText(page)).toContain('Refresh the code on your computer');
    expect(has(page, '.btn-retry')).toBe(false);
    page.querySelector('.btn-back')!.dispatchEvent('tap');
  });

  it('a code someone else scanned first says so, and confirms nothing', async () => {
    const { sock, scene } = await newSession();
    const first = await testScan(server.url, app.keys.test.secret, scene, 'o_mp_first_04');
    expect(first.status).toBe(200);
    const { page } = phone(scene, 'o_mp_second_5', 'en');
    await page.instance.onLoad({ scene });
    await waitForState(page, 'error');
    expect(page.instance.data.result).toMatchObject({ code: 'already_scanned', retry: false });
    expect(pageText(page)).toContain('Someone else already scanned this code');
    await sock.next('scanned');
    expect(sock.frames).toEqual([]);
  });

  it('a network failure shows a retry that works once the network is back', async () => {
    const { sock, scene } = await newSession();
    const { wx, page } = phone(scene, 'o_mp_train_06', 'en');
    wx.offline = true;
    await page.instance.onLoad({ scene });
    await waitForState(page, 'error');
    expect(page.instance.data.result).toMatchObject({ code: 'login', retry: true });

    // Back online for login, but the scan request itself fails: that is "No connection".
    wx.offline = false;
    const realRequest = wx.request as (r: unknown) => void;
    wx.request = (r: { url: string }) => realRequest({ ...r, url: r.url.replace(server.url, 'http://127.0.0.1:9') });
    expect(has(page, '.btn-retry')).toBe(true);
    await page.instance.onRetry();
    expect(page.instance.data.result).toMatchObject({ code: 'network', retry: true });
    expect(pageText(page)).toContain('No connection');

    wx.request = realRequest;
    page.querySelector('.btn-retry')!.dispatchEvent('tap');
    await waitForState(page, 'review');
    await sock.next('scanned');

    // A confirm lost on the way is retried with the same ticket.
    wx.offline = true;
    await page.instance.onConfirm({ detail: { value: {} } });
    expect(page.instance.data.result).toMatchObject({ code: 'network', retry: true });
    wx.offline = false;
    await page.instance.onRetry();
    expect(page.instance.data.state).toBe('done');
    expect((await sock.next('success')).user).toMatchObject({ openid: 'o_mp_train_06' });
  });

  it('speaks the phone\'s language: the same request in Chinese and in English', async () => {
    const a = await newSession();
    const zh = phone(a.scene, 'o_mp_lang_zh7', 'zh_CN');
    await zh.page.instance.onLoad({ scene: a.scene });
    await waitForState(zh.page, 'review');
    expect(pageText(zh.page)).toContain('Acme 商店 请求使用你的微信账号登录');
    expect(zh.page.querySelector('.btn-confirm')!.dom.textContent).toBe('确认登录');
    expect(zh.page.querySelector('.btn-cancel')!.dom.textContent).toBe('取消');

    const b = await newSession();
    const en = phone(b.scene, 'o_mp_lang_en8', 'en');
    await en.page.instance.onLoad({ scene: b.scene });
    await waitForState(en.page, 'review');
    expect(pageText(en.page)).toContain('Acme 商店 wants you to log in with your WeChat account');
    expect(en.page.querySelector('.btn-confirm')!.dom.textContent).toBe('Log in');
    expect(pageText(en.page)).not.toMatch(/请求|取消|核对/);
    a.sock.close();
    b.sock.close();
  });
});
