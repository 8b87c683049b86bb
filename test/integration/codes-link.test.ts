import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { createTestApp, openSocket, postJson, testScan } from '../helpers/login';
import { ConsoleClient } from './console-client';

let env: TestEnv;
let server: RunningServer;

beforeAll(async () => {
  env = await createTestEnv('codes-link');
  server = await env.start();
});
afterAll(() => env.dispose());

async function wechatCodeCalls(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith('wsl_wechat_calls_total{api="getwxacodeunlimit"'))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

describe('link-style codes (DESIGN §11)', () => {
  it('the image is an ordinary QR code of {PUBLIC_URL}/q/{appId}/{sessionId}, drawn without WeChat, with ETag and Cache-Control', async () => {
    const app = await createTestApp(server, { codeStyle: 'link' });
    const before = await wechatCodeCalls();
    const sock = await openSocket(server.url, app.keys.test.publishable);
    const session = await sock.next('session');
    const img = await fetch(String(session.qr));
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(img.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
    const link = `${server.core.config.publicUrl}/q/${app.app.id}/${String(session.session)}`;
    expect(await img.text()).toBe(await QRCode.toString(link, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));
    const etag = img.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    const again = await fetch(String(session.qr), { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await wechatCodeCalls()).toBe(before);

    // The phone: WeChat opens the page with q (the link, URL-encoded) and the login goes through.
    const scan = await testScan(server.url, app.keys.test.secret, String(session.session), 'o_link_user');
    expect(scan.status).toBe(200);
    await sock.next('scanned');
    expect((await postJson(`${server.url}/v1/mp/confirm`, { scene: session.session, ticket: scan.body.ticket })).status).toBe(200);
    await sock.next('success');
    sock.close();
  });

  it('a mini-program-code app still gets its image from WeChat (the sandbox simulator), PNG, with an ETag', async () => {
    const app = await createTestApp(server);
    const before = await wechatCodeCalls();
    const sock = await openSocket(server.url, app.keys.test.publishable);
    const session = await sock.next('session');
    const img = await fetch(String(session.qr));
    expect(img.headers.get('content-type')).toBe('image/png');
    expect(img.headers.get('etag')).toMatch(/^".+"$/);
    expect(await wechatCodeCalls()).toBe(before + 1);
    sock.close();
  });

  it('the link opened outside WeChat is a zh/en page saying to scan with WeChat, never a login; test mode links to the sandbox phone', async () => {
    const app = await createTestApp(server, { codeStyle: 'link', displayName: 'Link Shop' });
    const sock = await openSocket(server.url, app.keys.test.publishable);
    const session = await sock.next('session');
    const link = `${server.url}/q/${app.app.id}/${String(session.session)}`;
    const zh = await fetch(link, { headers: { 'accept-language': 'zh-CN,zh;q=0.9' } });
    expect(zh.status).toBe(200);
    expect(zh.headers.get('content-type')).toMatch(/^text\/html/);
    expect(zh.headers.get('cache-control')).toBe('no-store');
    const zhText = await zh.text();
    expect(zhText).toContain('请用微信扫码');
    expect(zhText).toContain('Link Shop');
    expect(zhText).not.toContain(String(session.secret));
    const en = await (await fetch(link, { headers: { 'accept-language': 'en-GB,en;q=0.9' } })).text();
    expect(en).toContain('Scan with WeChat');
    const phone = /href="([^"]+)"/.exec(en)![1]!.replaceAll('&amp;', '&');
    const phoneUrl = new URL(phone);
    expect(phoneUrl.pathname).toBe('/sandbox/phone');
    // What the page receives as options.q is still URL-encoded once, as WeChat hands it over.
    expect(decodeURIComponent(phoneUrl.searchParams.get('q')!)).toBe(`${server.core.config.publicUrl}/q/${app.app.id}/${String(session.session)}`);
    expect(Number(phoneUrl.searchParams.get('scancode_time'))).toBeGreaterThan(0);
    // Nothing changed for the session: opening the link is not a scan.
    expect((await server.core.redis.client.hget(server.core.key('sess', `{${String(session.session)}}`), 'state'))).toBe('pending');

    const unknown = await fetch(`${server.url}/q/${app.app.id}/AAAAAAAAAAAAAAAAAAAAAA`, { headers: { 'accept-language': 'en' } });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('no longer valid');
    expect((await fetch(`${server.url}/q/${app.app.id}/..%2Fetc`)).status).toBe(404);
    sock.close();
  });
});

describe('console: code style and the check file', () => {
  let c: ConsoleClient;
  let tenantId: string;
  let appId: string;
  beforeAll(async () => {
    c = new ConsoleClient(server.url);
    const me = await c.signUp('codes@example.com', 'correct horse battery', 'Codes Co');
    tenantId = me.tenants[0]!.id;
    const created = await c.post(`/tenants/${tenantId}/apps`, { name: 'Linked', allowedOrigins: ['https://linked.example.com'], codeStyle: 'link' });
    expect(created.status).toBe(201);
    expect(created.body.app.codeStyle).toBe('link');
    appId = created.body.app.id;
  });

  it('the style is set through the API and validated', async () => {
    expect((await c.patch(`/tenants/${tenantId}/apps/${appId}`, { codeStyle: 'wxacode' })).body.codeStyle).toBe('wxacode');
    expect((await c.patch(`/tenants/${tenantId}/apps/${appId}`, { codeStyle: 'png' })).status).toBe(400);
    expect((await c.patch(`/tenants/${tenantId}/apps/${appId}`, { codeStyle: 'link' })).body.codeStyle).toBe('link');
  });

  it('shows the exact rule prefix, takes WeChat\'s check file (validated) and serves it under the prefix', async () => {
    const setup = await c.get(`/tenants/${tenantId}/apps/${appId}/code-link`);
    expect(setup.body).toEqual({ codeStyle: 'link', rulePrefix: `${server.core.config.publicUrl}/q/${appId}/`, page: 'pages/scan-login/index', checkFile: null });

    const bad = await c.call('PUT', `/tenants/${tenantId}/apps/${appId}/code-link/check-file`, { fileName: '../evil.html', content: 'x' });
    expect(bad.status).toBe(400);
    const spaced = await c.call('PUT', `/tenants/${tenantId}/apps/${appId}/code-link/check-file`, { fileName: 'Ab12Cd34Ef.txt', content: '<script>alert(1)</script> x' });
    expect(spaced.status).toBe(400);

    const put = await c.call('PUT', `/tenants/${tenantId}/apps/${appId}/code-link/check-file`, { fileName: 'Ab12Cd34Ef.txt', content: '0123456789abcdef0123456789abcdef' });
    expect(put.status).toBe(200);
    expect(put.body.checkFile).toEqual({ fileName: 'Ab12Cd34Ef.txt', content: '0123456789abcdef0123456789abcdef', url: `${server.core.config.publicUrl}/q/${appId}/Ab12Cd34Ef.txt` });
    const served = await fetch(`${server.url}/q/${appId}/Ab12Cd34Ef.txt`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await served.text()).toBe('0123456789abcdef0123456789abcdef');
    expect((await fetch(`${server.url}/q/${appId}/Other1234.txt`)).status).toBe(404);

    // Another tenant can neither read nor replace it.
    const other = new ConsoleClient(server.url);
    const them = await other.signUp('other-codes@example.com', 'correct horse battery', 'Other Co');
    expect((await other.get(`/tenants/${them.tenants[0]!.id}/apps/${appId}/code-link`)).status).toBe(404);
    expect((await other.get(`/tenants/${tenantId}/apps/${appId}/code-link`)).status).toBe(404);

    expect((await c.del(`/tenants/${tenantId}/apps/${appId}/code-link/check-file`)).status).toBeLessThan(300);
    expect((await fetch(`${server.url}/q/${appId}/Ab12Cd34Ef.txt`)).status).toBe(404);
  });
});

describe('past the AppID\'s code quota', () => {
  it('the browser gets a clear codes_busy error frame (which the element retries), not just a broken image', async () => {
    const tight = await env.start({ WECHAT_CODES_PER_MINUTE: '1' });
    const app = await createTestApp(tight);
    const first = await openSocket(tight.url, app.keys.test.publishable);
    const one = await first.next('session');
    expect((await fetch(String(one.qr).replace(server.core.config.publicUrl, tight.url))).status).toBe(200);
    const second = await openSocket(tight.url, app.keys.test.publishable);
    const two = await second.next('session');
    const img = await fetch(String(two.qr).replace(tight.core.config.publicUrl, tight.url));
    expect(img.status).toBeGreaterThanOrEqual(500);
    const frame = await second.next('error');
    expect(frame.code).toBe('codes_busy');
    expect(String(frame.message)).toMatch(/a minute/);
    // A link-style app on the same server draws regardless of the quota.
    const linked = await createTestApp(tight, { codeStyle: 'link' });
    const third = await openSocket(tight.url, linked.keys.test.publishable);
    const three = await third.next('session');
    expect((await fetch(String(three.qr).replace(tight.core.config.publicUrl, tight.url))).status).toBe(200);
    for (const s of [first, second, third]) s.close();
  });
});
