/** POST /v1/mp/avatar (what wx.uploadFile sends after chooseAvatar) and GET /v1/avatars/:id. */
import { count, eq } from 'drizzle-orm';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { avatars } from '../../server/db/schema/index';
import type { RunningServer } from '../../server/main';
import { createTestApp, openSocket, testScan } from '../helpers/login';
import { createTestEnv, type TestEnv } from '../helpers/server';

let env: TestEnv;
let server: RunningServer;
let app: Awaited<ReturnType<typeof createTestApp>>;
let png: Buffer;

beforeAll(async () => {
  env = await createTestEnv('mpavatar');
  server = await env.start();
  app = await createTestApp(server);
  png = await QRCode.toBuffer('avatar');
});
afterAll(() => env.dispose());

async function scanned(): Promise<{ scene: string; ticket: string }> {
  const sock = await openSocket(server.url, app.keys.test.publishable);
  const scene = String((await sock.next('session')).session);
  const scan = await testScan(server.url, app.keys.test.secret, scene, `o_av_${scene.slice(0, 8).replace(/[^A-Za-z0-9]/g, 'x')}`);
  expect(scan.status).toBe(200);
  sock.close();
  return { scene, ticket: String(scan.body.ticket) };
}

/** The body wx.uploadFile builds: formData fields, then the file under `name`. */
async function upload(fields: Record<string, string>, file: Buffer | null, name = 'file') {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append(name, new Blob([new Uint8Array(file)]), 'tmp_123.jpg');
  const res = await fetch(`${server.url}/v1/mp/avatar`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function storedFor(scene: string): Promise<number> {
  const [row] = await server.core.db.select({ n: count() }).from(avatars).where(eq(avatars.sessionId, scene));
  return Number(row!.n);
}

describe('avatar upload', () => {
  it('stores a PNG for the scanner and serves it back from our origin', async () => {
    const s = await scanned();
    const r = await upload(s, png);
    expect(r.status).toBe(200);
    expect(r.body.avatarUrl).toMatch(new RegExp(`^${server.core.config.publicUrl}/v1/avatars/avt_[A-Za-z0-9]{16}$`));
    const res = await fetch(r.body.avatarUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(Buffer.from(await res.arrayBuffer()).equals(png)).toBe(true);
    const [row] = await server.core.db.select().from(avatars).where(eq(avatars.sessionId, s.scene));
    expect(row).toMatchObject({ appId: app.app.id, tenantId: app.app.tenantId, contentType: 'image/png' });
  });

  it('takes the type from the bytes, not from the file name', async () => {
    const s = await scanned();
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 1)]);
    const webp = Buffer.concat([Buffer.from('RIFF'), Buffer.from([0x40, 0, 0, 0]), Buffer.from('WEBPVP8 '), Buffer.alloc(64, 2)]);
    const j = await upload(s, jpeg);
    const w = await upload(s, webp);
    expect((await fetch(j.body.avatarUrl)).headers.get('content-type')).toBe('image/jpeg');
    expect((await fetch(w.body.avatarUrl)).headers.get('content-type')).toBe('image/webp');
    const html = await upload(s, Buffer.from('<html><script>alert(1)</script></html>'));
    expect(html.status).toBe(400);
    expect(html.body.error).toMatchObject({ code: 'bad_request', message: expect.stringContaining('PNG, JPEG or WebP') });
    expect(html.body.error.requestId).toMatch(/^req_/);
  });

  it('refuses a ticket that is not the scanner\'s, and stores nothing', async () => {
    const a = await scanned();
    const b = await scanned();
    const wrong = await upload({ scene: a.scene, ticket: b.ticket }, png);
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('wrong_user');
    const made = await upload({ scene: a.scene, ticket: 'x'.repeat(43) }, png);
    expect(made.status).toBe(403);
    expect(await storedFor(a.scene)).toBe(0);
  });

  it('refuses files over 512 KB, whether or not the length was declared up front', async () => {
    const s = await scanned();
    const justOver = Buffer.concat([png, Buffer.alloc(512 * 1024 + 10 - png.length)]);
    const r1 = await upload(s, justOver);
    expect(r1.status).toBe(413);
    expect(r1.body.error.code).toBe('payload_too_large');
    const huge = await upload(s, Buffer.concat([png, Buffer.alloc(3 * 1024 * 1024)]));
    expect(huge.status).toBe(413);
    expect(await storedFor(s.scene)).toBe(0);
    // At the limit is fine.
    const atLimit = await upload(s, Buffer.concat([png, Buffer.alloc(512 * 1024 - png.length)]));
    expect(atLimit.status).toBe(200);
  });

  it('gives a clear 400 for a body that is not what wx.uploadFile sends', async () => {
    const s = await scanned();
    const json = await fetch(`${server.url}/v1/mp/avatar`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(s) });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { error: { message: string } }).error.message).toContain('multipart/form-data');
    const noFile = await upload(s, null);
    expect(noFile.status).toBe(400);
    const wrongField = await upload(s, png, 'avatar');
    expect(wrongField.status).toBe(400);
    const noScene = await upload({ ticket: s.ticket }, png);
    expect(noScene.status).toBe(400);
    expect(noScene.body.error.message).toContain('scene');
    expect(await storedFor(s.scene)).toBe(0);
  });

  it('limits how many avatars one login may leave behind', async () => {
    const s = await scanned();
    for (let i = 0; i < 5; i++) expect((await upload(s, png)).status).toBe(200);
    const sixth = await upload(s, png);
    expect(sixth.status).toBe(429);
    expect(sixth.body.error.code).toBe('rate_limited');
    expect(await storedFor(s.scene)).toBe(5);
  });

  it('answers 404 for an unknown or malformed avatar id', async () => {
    for (const id of ['avt_AAAAAAAAAAAAAAAA', 'avt_..%2F..%2Fetc', 'usr_AAAAAAAAAAAAAAAA']) {
      const res = await fetch(`${server.url}/v1/avatars/${id}`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
  });
});
